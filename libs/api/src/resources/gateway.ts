/**
 * Gateway: status of one gateway replica (one object per tunnel-operator pod): whether it is the
 * active gateway or a standby, and the state of its connections to remote clusters.
 */
import Type, { type Static } from 'typebox';
import { API_GROUP, API_VERSION, GATEWAY_ROLES } from '../constants.ts';
import {
  ClusterIDField,
  ConditionsField,
  DNSSubdomainField,
  LatencySchema,
  StringEnum,
  TimestampField,
  TunnelPhaseSchema,
} from '../schema/fields.ts';
import {
  AGE_COLUMN,
  createObjectValidator,
  createPartValidators,
  type Resource,
  type ResourceDefinition,
} from './definition.ts';

export const GatewayResource = {
  group: API_GROUP,
  version: API_VERSION,
  kind: 'Gateway',
  plural: 'gateways',
  namespaced: true,
} as const;

/** Most remote clusters one gateway reports connections for. */
export const GATEWAY_MAX_CONNECTIONS = 512;

export const GatewaySpecSchema = Type.Object(
  {
    node: Type.Optional(DNSSubdomainField('Node the gateway replica runs on.')),
    clusterID: Type.Optional(ClusterIDField('ID of the cluster the gateway belongs to.')),
  },
  { description: 'Identity of the gateway replica. Everything else is status.' },
);
export type GatewaySpec = Static<typeof GatewaySpecSchema>;

export const GatewayConnectionSchema = Type.Object(
  {
    cluster: ClusterIDField('ID of the remote cluster.'),
    status: TunnelPhaseSchema,
    latency: Type.Optional(LatencySchema),
    rxBytes: Type.Optional(Type.Integer({ minimum: 0, format: 'int64', description: 'Bytes received through the tunnel.' })),
    txBytes: Type.Optional(Type.Integer({ minimum: 0, format: 'int64', description: 'Bytes sent through the tunnel.' })),
    lastHandshakeTime: Type.Optional(TimestampField('Time of the last successful handshake.')),
    message: Type.Optional(Type.String({ maxLength: 1024, description: 'Details when status is Error.' })),
  },
  { description: 'The tunnel to one remote cluster as this replica sees it.' },
);
export type GatewayConnection = Static<typeof GatewayConnectionSchema>;

export const GatewayStatusSchema = Type.Object(
  {
    role: StringEnum(GATEWAY_ROLES, { description: 'active (carries the traffic) or standby (ready to take over).' }),
    node: Type.Optional(DNSSubdomainField('Node the replica runs on.')),
    connections: Type.Optional(
      Type.Array(GatewayConnectionSchema, {
        maxItems: GATEWAY_MAX_CONNECTIONS,
        description: 'One entry per remote cluster.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['cluster'],
      }),
    ),
    lastTransitionTime: Type.Optional(TimestampField('When role last changed.')),
    conditions: Type.Optional(ConditionsField()),
  },
  { description: 'Role and connections of the gateway replica.' },
);
export type GatewayStatus = Static<typeof GatewayStatusSchema>;

/** Gateway objects may omit spec (status-only). */
export type Gateway = Omit<Resource<'Gateway', GatewaySpec, GatewayStatus>, 'spec'> & { spec?: GatewaySpec };

export const GatewayDefinition: ResourceDefinition<typeof GatewaySpecSchema, typeof GatewayStatusSchema> = {
  descriptor: GatewayResource,
  singular: 'gateway',
  listKind: 'GatewayList',
  shortNames: ['sgw'],
  categories: ['strait'],
  description:
    'One gateway replica (a tunnel-operator pod): active or standby, and its connections to remote clusters with ' +
    'latency and traffic counters. Status only.',
  spec: GatewaySpecSchema,
  specRequired: false,
  status: GatewayStatusSchema,
  printerColumns: [
    { name: 'Role', type: 'string', jsonPath: '.status.role' },
    { name: 'Node', type: 'string', jsonPath: '.status.node' },
    { name: 'Since', type: 'date', jsonPath: '.status.lastTransitionTime' },
    AGE_COLUMN,
  ],
};

const validators = createPartValidators(GatewayDefinition);
export const validateGatewaySpec = validators.spec;
/** Validates a Gateway status; errors name the field (`status.connections[0].status: ...`). */
export const validateGatewayStatus = validators.status;
/** Validates a whole Gateway object (apiVersion, kind, metadata.name, optional spec, status). */
export const validateGateway = createObjectValidator<typeof GatewaySpecSchema, typeof GatewayStatusSchema, Gateway>(
  GatewayDefinition,
  validators.spec,
  validators.status,
);
