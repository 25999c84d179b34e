/**
 * NatMapping: external IP → real IP translations offered to one remote cluster. Traffic from the
 * remote pods (podCIDR) to an external IP (inside externalCIDR) is DNATed to the entry's real IP,
 * a workload inside or outside this cluster. Programmed by the natmapping-operator on every
 * gateway node; each node reports its own progress in status.nodes.
 */
import Type, { type Static } from 'typebox';
import { API_GROUP, API_VERSION } from '../constants.ts';
import { cidrContainsIP, cidrsOverlap, isIP, parseCIDR } from '../ip.ts';
import { immutable } from '../schema/common-rules.ts';
import {
  CIDRField,
  ClusterIDField,
  ConditionsField,
  DNSSubdomainField,
  IPAddressField,
  ObservedGenerationField,
  TimestampField,
} from '../schema/fields.ts';
import { withRules } from '../schema/rules.ts';
import {
  AGE_COLUMN,
  createObjectValidator,
  createPartValidators,
  type Resource,
  type ResourceDefinition,
} from './definition.ts';

export const NatMappingResource = {
  group: API_GROUP,
  version: API_VERSION,
  kind: 'NatMapping',
  plural: 'natmappings',
  namespaced: true,
} as const;

/** Most entries one NatMapping may hold (bounded for CEL cost and object size). */
export const NAT_MAPPING_MAX_ENTRIES = 10_000;
/** Most gateway nodes that report in status.nodes. */
export const NAT_MAPPING_MAX_NODES = 64;

export const NatMappingEntrySchema = Type.Object(
  {
    externalIP: IPAddressField('Address inside externalCIDR that the remote cluster sends to. Unique in the list.'),
    realIP: IPAddressField('Address of the real workload the traffic is translated to.'),
    description: Type.Optional(Type.String({ maxLength: 64, description: 'Free text for humans.' })),
  },
  { description: 'One translation: externalIP → realIP.' },
);
export type NatMappingEntry = Static<typeof NatMappingEntrySchema>;

export const NatMappingSpecSchema = withRules(
  Type.Object(
    {
      clusterID: withRules(ClusterIDField('ID of the remote cluster these mappings are offered to. Immutable.'), [
        immutable('clusterID'),
      ]),
      podCIDR: CIDRField('Pods of the remote cluster, as they appear here (after any remap): the allowed sources.'),
      externalCIDR: CIDRField('External CIDR as the remote cluster addresses it (after any remap); holds every externalIP.'),
      entries: Type.Array(NatMappingEntrySchema, {
        maxItems: NAT_MAPPING_MAX_ENTRIES,
        description: 'Translations, keyed by externalIP (duplicates are rejected).',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['externalIP'],
      }),
    },
    { description: 'External IP → real IP translations offered to one remote cluster.' },
  ),
  [
    {
      rule:
        '!isCIDR(self.externalCIDR) || self.entries.all(e, !isIP(e.externalIP) || cidr(self.externalCIDR).containsIP(e.externalIP))',
      // Naming the offending entry would take a filter(), whose estimated cost is quadratic in
      // maxItems; the TypeScript mirror names it.
      messageExpression: `'every externalIP must lie inside externalCIDR ' + self.externalCIDR`,
      fieldPath: '.entries',
      check: (self, report) => {
        if (parseCIDR(self.externalCIDR) === undefined || !Array.isArray(self.entries)) return;
        self.entries.forEach((e, i) => {
          const ip = e?.externalIP;
          if (typeof ip === 'string' && isIP(ip) && !cidrContainsIP(self.externalCIDR, ip)) {
            report(`externalIP ${ip} is outside externalCIDR ${self.externalCIDR}`, `.entries[${i}].externalIP`);
          }
        });
      },
    },
    {
      rule:
        '!isCIDR(self.externalCIDR) || self.entries.all(e, !isIP(e.realIP) || !cidr(self.externalCIDR).containsIP(e.realIP))',
      messageExpression: `'no realIP may lie inside externalCIDR ' + self.externalCIDR`,
      fieldPath: '.entries',
      check: (self, report) => {
        if (parseCIDR(self.externalCIDR) === undefined || !Array.isArray(self.entries)) return;
        self.entries.forEach((e, i) => {
          const ip = e?.realIP;
          if (typeof ip === 'string' && isIP(ip) && cidrContainsIP(self.externalCIDR, ip)) {
            report(`realIP ${ip} must not lie inside externalCIDR ${self.externalCIDR}`, `.entries[${i}].realIP`);
          }
        });
      },
    },
    {
      rule:
        '!isCIDR(self.podCIDR) || !isCIDR(self.externalCIDR) || ' +
        '!(cidr(self.podCIDR).containsCIDR(self.externalCIDR) || cidr(self.externalCIDR).containsCIDR(self.podCIDR))',
      messageExpression: `'externalCIDR ' + self.externalCIDR + ' must not overlap podCIDR ' + self.podCIDR`,
      fieldPath: '.externalCIDR',
      check: (self, report) => {
        if (cidrsOverlap(self.podCIDR, self.externalCIDR)) {
          report(`externalCIDR ${self.externalCIDR} must not overlap podCIDR ${self.podCIDR}`);
        }
      },
    },
  ],
);
export type NatMappingSpec = Static<typeof NatMappingSpecSchema>;

export const NatMappingNodeStatusSchema = Type.Object(
  {
    node: DNSSubdomainField('Gateway node that reports.'),
    programmed: Type.Integer({ minimum: 0, format: 'int32', description: 'Entries programmed in the datapath of this node.' }),
    errors: Type.Optional(
      Type.Array(Type.String({ maxLength: 1024 }), {
        maxItems: 16,
        description: 'First errors of the last apply on this node (empty when all entries are programmed).',
      }),
    ),
    lastApplied: Type.Optional(TimestampField('When this node last applied the mappings.')),
    observedGeneration: Type.Optional(ObservedGenerationField('The metadata.generation this node last applied.')),
  },
  { description: 'Progress of one gateway node.' },
);
export type NatMappingNodeStatus = Static<typeof NatMappingNodeStatusSchema>;

export const NatMappingStatusSchema = Type.Object(
  {
    nodes: Type.Optional(
      Type.Array(NatMappingNodeStatusSchema, {
        maxItems: NAT_MAPPING_MAX_NODES,
        description: 'One entry per gateway node, each written by that node.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['node'],
      }),
    ),
    observedGeneration: Type.Optional(ObservedGenerationField()),
    conditions: Type.Optional(ConditionsField()),
  },
  { description: 'Observed state of the mappings on the gateway nodes.' },
);
export type NatMappingStatus = Static<typeof NatMappingStatusSchema>;

export type NatMapping = Resource<'NatMapping', NatMappingSpec, NatMappingStatus>;

export const NatMappingDefinition: ResourceDefinition<typeof NatMappingSpecSchema, typeof NatMappingStatusSchema> = {
  descriptor: NatMappingResource,
  singular: 'natmapping',
  listKind: 'NatMappingList',
  shortNames: ['natm'],
  categories: ['strait'],
  description:
    'External IP → real IP translations offered to one remote cluster: traffic from the remote pods (podCIDR) to an ' +
    'externalIP inside externalCIDR is translated to realIP. Programmed on every gateway node.',
  spec: NatMappingSpecSchema,
  specRequired: true,
  status: NatMappingStatusSchema,
  printerColumns: [
    { name: 'Cluster ID', type: 'string', jsonPath: '.spec.clusterID' },
    { name: 'Pod CIDR', type: 'string', jsonPath: '.spec.podCIDR' },
    { name: 'External CIDR', type: 'string', jsonPath: '.spec.externalCIDR' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    AGE_COLUMN,
  ],
};

const validators = createPartValidators(NatMappingDefinition);
/** Validates a NatMapping spec; errors name the field (`spec.entries[3].externalIP: ...`). */
export const validateNatMappingSpec = validators.spec;
export const validateNatMappingStatus = validators.status;
/** Validates a whole NatMapping object (apiVersion, kind, metadata.name, spec, status). */
export const validateNatMapping = createObjectValidator<
  typeof NatMappingSpecSchema,
  typeof NatMappingStatusSchema,
  NatMapping
>(NatMappingDefinition, validators.spec, validators.status);
