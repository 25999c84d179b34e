/**
 * Endpoint: how to reach a member cluster's active gateway. Written by the active gateway of the
 * cluster it describes, exported to the Broker, imported by every other member (one per cluster).
 */
import Type, { type Static } from 'typebox';
import { API_GROUP, API_VERSION } from '../constants.ts';
import { immutable } from '../schema/common-rules.ts';
import {
  BackendSchema,
  CIDRListField,
  ClusterIDField,
  ConditionsField,
  DNSSubdomainField,
  IPAddressField,
  EndpointBackendConfigSchema,
  ObservedGenerationField,
  backendConfigOffersBackend,
} from '../schema/fields.ts';
import { withRules } from '../schema/rules.ts';
import {
  AGE_COLUMN,
  createObjectValidator,
  createPartValidators,
  type Resource,
  type ResourceDefinition,
} from './definition.ts';

export const EndpointResource = {
  group: API_GROUP,
  version: API_VERSION,
  kind: 'Endpoint',
  plural: 'endpoints',
  namespaced: true,
} as const;

export const EndpointSpecSchema = withRules(
  Type.Object(
    {
      clusterID: withRules(ClusterIDField('ID of the cluster this gateway belongs to. Immutable.'), [immutable('clusterID')]),
      hostname: DNSSubdomainField('Hostname of the gateway node.'),
      privateIP: IPAddressField('IP of the gateway node inside its own network.'),
      publicIP: Type.Optional(IPAddressField('IP under which peers reach the gateway (after NAT), when known.')),
      backend: BackendSchema,
      backendConfig: EndpointBackendConfigSchema,
      subnets: CIDRListField('CIDRs reachable through this gateway (pod, service, external).', { minItems: 1, maxItems: 32 }),
      healthCheckIP: Type.Optional(IPAddressField('IP the peers probe through the tunnel to measure latency and liveness.')),
    },
    { description: 'How to reach the active gateway of a cluster.' },
  ),
  [backendConfigOffersBackend],
);
export type EndpointSpec = Static<typeof EndpointSpecSchema>;

export const EndpointStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(ObservedGenerationField()),
    conditions: Type.Optional(ConditionsField()),
  },
  { description: 'Observed state of the endpoint.' },
);
export type EndpointStatus = Static<typeof EndpointStatusSchema>;

export type Endpoint = Resource<'Endpoint', EndpointSpec, EndpointStatus>;

export const EndpointDefinition: ResourceDefinition<typeof EndpointSpecSchema, typeof EndpointStatusSchema> = {
  descriptor: EndpointResource,
  singular: 'endpoint',
  listKind: 'EndpointList',
  categories: ['strait'],
  description:
    "The active gateway of a member cluster: its addresses, the cable drivers it offers (backend: the preferred one) " +
    "and each driver's public settings. " +
    'One per cluster, written by the active gateway and exchanged through the Broker.',
  spec: EndpointSpecSchema,
  specRequired: true,
  status: EndpointStatusSchema,
  printerColumns: [
    { name: 'Cluster ID', type: 'string', jsonPath: '.spec.clusterID' },
    { name: 'Backend', type: 'string', jsonPath: '.spec.backend' },
    { name: 'Public IP', type: 'string', jsonPath: '.spec.publicIP' },
    { name: 'Private IP', type: 'string', jsonPath: '.spec.privateIP' },
    { name: 'Hostname', type: 'string', jsonPath: '.spec.hostname', priority: 1 },
    AGE_COLUMN,
  ],
};

const validators = createPartValidators(EndpointDefinition);
/** Validates an Endpoint spec; errors name the field (`spec.backendConfig.wireguard.publicKey: ...`). */
export const validateEndpointSpec = validators.spec;
export const validateEndpointStatus = validators.status;
/** Validates a whole Endpoint object (apiVersion, kind, metadata.name, spec, status). */
export const validateEndpoint = createObjectValidator<typeof EndpointSpecSchema, typeof EndpointStatusSchema, Endpoint>(
  EndpointDefinition,
  validators.spec,
  validators.status,
);
