/**
 * Cluster: a member cluster's address plan, exported to the Broker by its broker-sync and
 * imported by every other member. One per member cluster.
 */
import Type, { type Static } from 'typebox';
import { API_GROUP, API_VERSION } from '../constants.ts';
import { cidrsOverlap } from '../ip.ts';
import {
  CIDRField,
  CIDRListField,
  ClusterIDField,
  ConditionsField,
  ObservedGenerationField,
} from '../schema/fields.ts';
import { immutable, noOverlapBetween } from '../schema/common-rules.ts';
import { withRules } from '../schema/rules.ts';
import {
  AGE_COLUMN,
  createObjectValidator,
  createPartValidators,
  type Resource,
  type ResourceDefinition,
} from './definition.ts';

export const ClusterResource = {
  group: API_GROUP,
  version: API_VERSION,
  kind: 'Cluster',
  plural: 'clusters',
  namespaced: true,
} as const;

export const ClusterSpecSchema = withRules(
  Type.Object(
    {
      clusterID: withRules(ClusterIDField('Unique ID of the member cluster (DNS-1123 label). Immutable.'), [immutable('clusterID')]),
      podCIDRs: CIDRListField('Pod CIDRs of the cluster (one per IP family, or more).', { minItems: 1, maxItems: 8 }),
      serviceCIDRs: CIDRListField('Service CIDRs of the cluster.', { minItems: 1, maxItems: 8 }),
      externalCIDR: Type.Optional(
        CIDRField('CIDR from which the cluster hands out external IPs that NatMapping entries translate to real workloads.'),
      ),
    },
    { description: 'Address plan of a member cluster.' },
  ),
  [
    noOverlapBetween('serviceCIDRs', 'podCIDRs'),
    {
      rule:
        '!has(self.externalCIDR) || !isCIDR(self.externalCIDR) || (self.podCIDRs + self.serviceCIDRs).all(c, ' +
        '!isCIDR(c) || !(cidr(c).containsCIDR(self.externalCIDR) || cidr(self.externalCIDR).containsCIDR(c)))',
      messageExpression: `'externalCIDR ' + self.externalCIDR + ' must not overlap podCIDRs or serviceCIDRs'`,
      fieldPath: '.externalCIDR',
      check: (self, report) => {
        const external = self.externalCIDR;
        if (typeof external !== 'string') return;
        const clash = [...(self.podCIDRs ?? []), ...(self.serviceCIDRs ?? [])].find((c) => cidrsOverlap(c, external));
        if (clash !== undefined) report(`externalCIDR ${external} must not overlap podCIDRs or serviceCIDRs (overlaps ${clash})`);
      },
    },
  ],
);
export type ClusterSpec = Static<typeof ClusterSpecSchema>;

export const ClusterStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(ObservedGenerationField()),
    conditions: Type.Optional(ConditionsField()),
  },
  { description: 'Observed state of the cluster as seen by the writer of this copy.' },
);
export type ClusterStatus = Static<typeof ClusterStatusSchema>;

export type Cluster = Resource<'Cluster', ClusterSpec, ClusterStatus>;

export const ClusterDefinition: ResourceDefinition<typeof ClusterSpecSchema, typeof ClusterStatusSchema> = {
  descriptor: ClusterResource,
  singular: 'cluster',
  listKind: 'ClusterList',
  categories: ['strait'],
  description:
    'A member cluster of a Strait mesh: its ID and address plan (pod, service and external CIDRs). ' +
    'Exported to the Broker by the cluster it describes and imported by every other member.',
  spec: ClusterSpecSchema,
  specRequired: true,
  status: ClusterStatusSchema,
  printerColumns: [
    { name: 'Cluster ID', type: 'string', jsonPath: '.spec.clusterID' },
    { name: 'Pod CIDRs', type: 'string', jsonPath: '.spec.podCIDRs' },
    { name: 'Service CIDRs', type: 'string', jsonPath: '.spec.serviceCIDRs' },
    { name: 'External CIDR', type: 'string', jsonPath: '.spec.externalCIDR' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    AGE_COLUMN,
  ],
};

const validators = createPartValidators(ClusterDefinition);
/** Validates a Cluster spec; errors name the field (`spec.podCIDRs[1]: ...`). */
export const validateClusterSpec = validators.spec;
export const validateClusterStatus = validators.status;
/** Validates a whole Cluster object (apiVersion, kind, metadata.name, spec, status). */
export const validateCluster = createObjectValidator<typeof ClusterSpecSchema, typeof ClusterStatusSchema, Cluster>(
  ClusterDefinition,
  validators.spec,
  validators.status,
);
