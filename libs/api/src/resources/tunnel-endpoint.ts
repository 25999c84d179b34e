/**
 * TunnelEndpoint: the tunnel from this cluster to one remote cluster. Produced locally by
 * broker-sync from the remote Cluster and Endpoint (one per remote cluster) and reconciled by the
 * tunnel-operator: tunnel link, routes to the remote CIDRs, remap NAT when CIDRs conflict.
 */
import Type, { type Static } from 'typebox';
import { API_GROUP, API_VERSION } from '../constants.ts';
import { cidrsOverlap, parseCIDR } from '../ip.ts';
import { immutable } from '../schema/common-rules.ts';
import {
  BackendConfigSchema,
  BackendSchema,
  CIDRField,
  CIDRListField,
  ClusterIDField,
  ConditionsField,
  IPAddressField,
  LatencySchema,
  ObservedGenerationField,
  PortField,
  TimestampField,
  TunnelPhaseSchema,
  backendConfigMatchesBackend,
} from '../schema/fields.ts';
import { withRules } from '../schema/rules.ts';
import {
  AGE_COLUMN,
  createObjectValidator,
  createPartValidators,
  type Resource,
  type ResourceDefinition,
} from './definition.ts';

export const TunnelEndpointResource = {
  group: API_GROUP,
  version: API_VERSION,
  kind: 'TunnelEndpoint',
  plural: 'tunnelendpoints',
  namespaced: true,
} as const;

export const TunnelAddressSchema = Type.Object(
  {
    address: IPAddressField('IP of the remote gateway to send tunnel traffic to.'),
    port: PortField('UDP port of the remote gateway (may differ from backendConfig after NAT).'),
  },
  { description: 'Where the remote gateway is reached.' },
);
export type TunnelAddress = Static<typeof TunnelAddressSchema>;

export const RemoteNetworkSchema = withRules(
  Type.Object(
    {
      podCIDRs: CIDRListField('Pod CIDRs of the remote cluster, as the remote cluster uses them.', { minItems: 1, maxItems: 8 }),
      externalCIDR: Type.Optional(CIDRField('External CIDR of the remote cluster, as the remote cluster uses it.')),
    },
    { description: 'Address plan of the remote cluster (its own view, before any remap).' },
  ),
  [
    {
      rule:
        '!has(self.externalCIDR) || !isCIDR(self.externalCIDR) || self.podCIDRs.all(c, !isCIDR(c) || ' +
        '!(cidr(c).containsCIDR(self.externalCIDR) || cidr(self.externalCIDR).containsCIDR(c)))',
      messageExpression: `'externalCIDR ' + self.externalCIDR + ' must not overlap podCIDRs'`,
      fieldPath: '.externalCIDR',
      check: (self, report) => {
        const external = self.externalCIDR;
        if (typeof external !== 'string' || !Array.isArray(self.podCIDRs)) return;
        const clash = self.podCIDRs.find((c) => cidrsOverlap(c, external));
        if (clash !== undefined) report(`externalCIDR ${external} must not overlap podCIDRs (overlaps ${clash})`);
      },
    },
  ],
);
export type RemoteNetwork = Static<typeof RemoteNetworkSchema>;

export const RemapSchema = Type.Object(
  {
    localPodCIDR: Type.Optional(
      CIDRField('CIDR under which our pods appear to the remote cluster (same size as our pod CIDR of that family).'),
    ),
    remotePodCIDR: Type.Optional(
      CIDRField('CIDR under which the remote pods appear to us; same family and size as one of remote.podCIDRs.'),
    ),
    localExternalCIDR: Type.Optional(CIDRField('CIDR under which our external CIDR appears to the remote cluster.')),
    remoteExternalCIDR: Type.Optional(
      CIDRField('CIDR under which the remote external CIDR appears to us; same family and size as remote.externalCIDR.'),
    ),
  },
  {
    description:
      'Remapped CIDRs (1:1 NAT) used when address plans conflict. An unset member means no remap in that direction.',
  },
);
export type Remap = Static<typeof RemapSchema>;

function sameShape(a: string, b: string): boolean {
  const x = parseCIDR(a);
  const y = parseCIDR(b);
  return x !== undefined && y !== undefined && x.address.family === y.address.family && x.prefixLength === y.prefixLength;
}

function familyOf(c: string): number | undefined {
  return parseCIDR(c)?.address.family;
}

export const TunnelEndpointSpecSchema = withRules(
  Type.Object(
    {
      remoteClusterID: withRules(ClusterIDField('ID of the remote cluster. Immutable.'), [immutable('remoteClusterID')]),
      endpoint: TunnelAddressSchema,
      backend: BackendSchema,
      backendConfig: BackendConfigSchema,
      remote: RemoteNetworkSchema,
      remap: Type.Optional(RemapSchema),
      mtu: Type.Optional(
        Type.Integer({
          minimum: 576,
          maximum: 65535,
          format: 'int32',
          description: 'MTU of the tunnel link; default: underlay MTU minus the driver overhead.',
        }),
      ),
    },
    { description: 'The tunnel to one remote cluster.' },
  ),
  [
    backendConfigMatchesBackend,
    {
      rule:
        '!has(self.remap) || !has(self.remap.remotePodCIDR) || !isCIDR(self.remap.remotePodCIDR) || ' +
        '!self.remote.podCIDRs.all(c, isCIDR(c)) || (' +
        'self.remote.podCIDRs.exists_one(c, isCIDR(c) && cidr(c).ip().family() == cidr(self.remap.remotePodCIDR).ip().family()) && ' +
        'self.remote.podCIDRs.exists(c, isCIDR(c) && cidr(c).ip().family() == cidr(self.remap.remotePodCIDR).ip().family() && ' +
        'cidr(c).prefixLength() == cidr(self.remap.remotePodCIDR).prefixLength()))',
      message:
        'remap.remotePodCIDR must have the same IP family and prefix length as the one remote.podCIDRs entry of that family',
      fieldPath: '.remap.remotePodCIDR',
      check: (self, report) => {
        const remapped = self.remap?.remotePodCIDR;
        const pods = self.remote?.podCIDRs;
        if (typeof remapped !== 'string' || parseCIDR(remapped) === undefined) return;
        if (!Array.isArray(pods) || !pods.every((c) => typeof c === 'string' && parseCIDR(c) !== undefined)) return;
        const family = familyOf(remapped);
        const candidates = self.remote.podCIDRs.filter((c) => familyOf(c) === family);
        if (candidates.length !== 1 || !sameShape(candidates[0] ?? '', remapped)) {
          report(
            `remap.remotePodCIDR must have the same IP family and prefix length as the one remote.podCIDRs entry of that family (got ${remapped}, remote.podCIDRs ${JSON.stringify(self.remote.podCIDRs)})`,
          );
        }
      },
    },
    {
      rule:
        '!has(self.remap) || !has(self.remap.remoteExternalCIDR) || !isCIDR(self.remap.remoteExternalCIDR) || (' +
        'has(self.remote.externalCIDR) && isCIDR(self.remote.externalCIDR) && ' +
        'cidr(self.remote.externalCIDR).ip().family() == cidr(self.remap.remoteExternalCIDR).ip().family() && ' +
        'cidr(self.remote.externalCIDR).prefixLength() == cidr(self.remap.remoteExternalCIDR).prefixLength())',
      message: 'remap.remoteExternalCIDR requires remote.externalCIDR and must have its IP family and prefix length',
      fieldPath: '.remap.remoteExternalCIDR',
      check: (self, report) => {
        const remapped = self.remap?.remoteExternalCIDR;
        if (typeof remapped !== 'string' || parseCIDR(remapped) === undefined) return;
        const original = self.remote?.externalCIDR;
        if (typeof original !== 'string' || !sameShape(original, remapped)) {
          report(
            `remap.remoteExternalCIDR requires remote.externalCIDR and must have its IP family and prefix length (got ${remapped}, remote.externalCIDR ${String(original)})`,
          );
        }
      },
    },
    {
      rule:
        '!has(self.remap) || !has(self.remap.remotePodCIDR) || !has(self.remap.remoteExternalCIDR) || ' +
        '!isCIDR(self.remap.remotePodCIDR) || !isCIDR(self.remap.remoteExternalCIDR) || ' +
        '!(cidr(self.remap.remotePodCIDR).containsCIDR(self.remap.remoteExternalCIDR) || ' +
        'cidr(self.remap.remoteExternalCIDR).containsCIDR(self.remap.remotePodCIDR))',
      message: 'remap.remoteExternalCIDR must not overlap remap.remotePodCIDR',
      fieldPath: '.remap.remoteExternalCIDR',
      check: (self, report) => {
        const pod = self.remap?.remotePodCIDR;
        const external = self.remap?.remoteExternalCIDR;
        if (typeof pod === 'string' && typeof external === 'string' && cidrsOverlap(pod, external)) {
          report(`remap.remoteExternalCIDR must not overlap remap.remotePodCIDR (${external} and ${pod})`);
        }
      },
    },
    {
      rule:
        '!has(self.remap) || !has(self.remap.localPodCIDR) || !has(self.remap.localExternalCIDR) || ' +
        '!isCIDR(self.remap.localPodCIDR) || !isCIDR(self.remap.localExternalCIDR) || ' +
        '!(cidr(self.remap.localPodCIDR).containsCIDR(self.remap.localExternalCIDR) || ' +
        'cidr(self.remap.localExternalCIDR).containsCIDR(self.remap.localPodCIDR))',
      message: 'remap.localExternalCIDR must not overlap remap.localPodCIDR',
      fieldPath: '.remap.localExternalCIDR',
      check: (self, report) => {
        const pod = self.remap?.localPodCIDR;
        const external = self.remap?.localExternalCIDR;
        if (typeof pod === 'string' && typeof external === 'string' && cidrsOverlap(pod, external)) {
          report(`remap.localExternalCIDR must not overlap remap.localPodCIDR (${external} and ${pod})`);
        }
      },
    },
  ],
);
export type TunnelEndpointSpec = Static<typeof TunnelEndpointSpecSchema>;

export const TunnelEndpointStatusSchema = Type.Object(
  {
    phase: Type.Optional(TunnelPhaseSchema),
    interface: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 15,
        pattern: '^[A-Za-z0-9._-]+$',
        description: 'Name of the tunnel link inside the gateway network namespace.',
      }),
    ),
    latency: Type.Optional(LatencySchema),
    lastHandshakeTime: Type.Optional(TimestampField('Time of the last successful handshake with the remote gateway.')),
    observedGeneration: Type.Optional(ObservedGenerationField()),
    conditions: Type.Optional(ConditionsField()),
  },
  { description: 'Observed state of the tunnel, written by the active tunnel-operator.' },
);
export type TunnelEndpointStatus = Static<typeof TunnelEndpointStatusSchema>;

export type TunnelEndpoint = Resource<'TunnelEndpoint', TunnelEndpointSpec, TunnelEndpointStatus>;

export const TunnelEndpointDefinition: ResourceDefinition<
  typeof TunnelEndpointSpecSchema,
  typeof TunnelEndpointStatusSchema
> = {
  descriptor: TunnelEndpointResource,
  singular: 'tunnelendpoint',
  listKind: 'TunnelEndpointList',
  shortNames: ['tep'],
  categories: ['strait'],
  description:
    'The tunnel from this cluster to one remote cluster: where the remote gateway is, which cable driver and settings to ' +
    'use, the remote CIDRs to route, and remapped CIDRs when address plans conflict. Produced by broker-sync, one per ' +
    'remote cluster; reconciled by the tunnel-operator.',
  spec: TunnelEndpointSpecSchema,
  specRequired: true,
  status: TunnelEndpointStatusSchema,
  printerColumns: [
    { name: 'Remote', type: 'string', jsonPath: '.spec.remoteClusterID' },
    { name: 'Backend', type: 'string', jsonPath: '.spec.backend' },
    { name: 'Endpoint', type: 'string', jsonPath: '.spec.endpoint.address' },
    { name: 'Port', type: 'integer', jsonPath: '.spec.endpoint.port', priority: 1 },
    { name: 'Status', type: 'string', jsonPath: '.status.phase' },
    { name: 'Interface', type: 'string', jsonPath: '.status.interface', priority: 1 },
    { name: 'RTT (ms)', type: 'number', jsonPath: '.status.latency.averageMs', priority: 1 },
    AGE_COLUMN,
  ],
};

const validators = createPartValidators(TunnelEndpointDefinition);
/** Validates a TunnelEndpoint spec; errors name the field (`spec.remote.podCIDRs[0]: ...`). */
export const validateTunnelEndpointSpec = validators.spec;
export const validateTunnelEndpointStatus = validators.status;
/** Validates a whole TunnelEndpoint object (apiVersion, kind, metadata.name, spec, status). */
export const validateTunnelEndpoint = createObjectValidator<
  typeof TunnelEndpointSpecSchema,
  typeof TunnelEndpointStatusSchema,
  TunnelEndpoint
>(TunnelEndpointDefinition, validators.spec, validators.status);
