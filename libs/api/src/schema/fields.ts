/**
 * Reusable field schemas for Strait's custom resources. Every schema here is structural
 * (a `type` on every node, no unions) so it converts to a CRD schema as is, carries the size
 * bounds the CEL cost estimator needs, and pairs each CEL rule with its TypeScript mirror.
 */
import Type, { type Static, type TEnumValue, type TSchemaOptions } from 'typebox';
import { cidrsOverlap, formatCIDR, formatIP, isCIDR, isCanonicalIP, maskedPrefix, parseCIDR, parseIP } from '../ip.ts';
import { withRules } from './rules.ts';

/** Longest textual IP address (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`). */
export const MAX_IP_LENGTH = 45;
/** Longest textual CIDR. */
export const MAX_CIDR_LENGTH = 49;
/** DNS-1123 label (cluster IDs). */
export const DNS1123_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** DNS-1123 subdomain (hostnames, node names). */
export const DNS1123_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** A WireGuard public key: 32 bytes in standard base64 (44 characters, one `=` of padding). */
export const WIREGUARD_KEY_PATTERN = '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$';

/** A string enum with `type: string` (structural, unlike a bare `enum`). */
export function StringEnum<const Values extends TEnumValue[]>(values: readonly [...Values], options: TSchemaOptions = {}) {
  return Type.Enum(values, { type: 'string', ...options });
}

const quoted = (v: unknown) => `"${String(v)}"`;

/** An IP address in canonical form (so that string equality is address equality). */
export function IPAddressField(description: string) {
  return withRules(Type.String({ minLength: 1, maxLength: MAX_IP_LENGTH, description }), [
    {
      rule: 'isIP(self)',
      messageExpression: `'"' + self + '" is not a valid IP address'`,
      check: (v, report) => {
        if (parseIP(v) === undefined) report(`${quoted(v)} is not a valid IP address`);
      },
    },
    {
      rule: '!isIP(self) || ip.isCanonical(self)',
      // The expected form cannot go into messageExpression: string(ip(...)) has no size bound for
      // the cost estimator. The TypeScript mirror names it.
      messageExpression: `'"' + self + '" is not in canonical form (lowercase hex, shortest IPv6 form, e.g. fd00::1)'`,
      check: (v, report) => {
        const address = parseIP(v);
        if (address !== undefined && !isCanonicalIP(v)) {
          report(`${quoted(v)} is not in canonical form; write it as ${quoted(formatIP(address))}`);
        }
      },
    },
  ]);
}

/** A CIDR in canonical form: no host bits set, canonical address text. */
export function CIDRField(description: string) {
  return withRules(Type.String({ minLength: 1, maxLength: MAX_CIDR_LENGTH, description }), [
    {
      rule: 'isCIDR(self)',
      messageExpression: `'"' + self + '" is not a valid CIDR (for example 10.0.0.0/16 or fd00::/64)'`,
      check: (v, report) => {
        if (!isCIDR(v)) report(`${quoted(v)} is not a valid CIDR (for example 10.0.0.0/16 or fd00::/64)`);
      },
    },
    {
      rule: '!isCIDR(self) || string(cidr(self).masked()) == self',
      // Comparing CIDR values in messageExpression has no cost bound for the estimator; keep it a
      // plain string. The TypeScript mirror names the canonical form.
      messageExpression:
        `'"' + self + '" is not a canonical network address (host bits clear, shortest form, e.g. 10.1.0.0/16 or fd00:1::/64)'`,
      check: (v, report) => {
        const prefix = parseCIDR(v);
        if (prefix === undefined) return;
        const network = maskedPrefix(prefix);
        const canonical = formatCIDR(network);
        if (canonical === v) return;
        if (network.address.value !== prefix.address.value) {
          report(`${quoted(v)} has host bits set; the network is ${quoted(canonical)}`);
        } else {
          report(`${quoted(v)} is not in canonical form; write it as ${quoted(canonical)}`);
        }
      },
    },
  ]);
}

/**
 * A list of CIDRs with no duplicates (`x-kubernetes-list-type: set`) and no two overlapping.
 */
export function CIDRListField(description: string, bounds: { minItems?: number; maxItems: number }) {
  const list = Type.Array(CIDRField('A CIDR in canonical form.'), {
    description,
    ...bounds,
    'x-kubernetes-list-type': 'set',
  });
  return withRules(list, [
    {
      rule: 'self.all(a, self.all(b, a == b || !isCIDR(a) || !isCIDR(b) || !(cidr(a).containsCIDR(b) || cidr(b).containsCIDR(a))))',
      message: 'CIDRs in this list must not overlap each other',
      check: (v, report) => {
        if (!Array.isArray(v)) return;
        for (let i = 0; i < v.length; i++) {
          for (let j = i + 1; j < v.length; j++) {
            const a = v[i];
            const b = v[j];
            if (a !== b && cidrsOverlap(a ?? '', b ?? '')) {
              report(`CIDRs in this list must not overlap each other: ${quoted(a)} and ${quoted(b)}`, `[${j}]`);
            }
          }
        }
      },
    },
  ]);
}

/** A Kubernetes-style identifier of a member cluster: a DNS-1123 label. */
export function ClusterIDField(description: string) {
  return Type.String({ minLength: 1, maxLength: 63, pattern: DNS1123_LABEL_PATTERN, description });
}

/** A DNS-1123 subdomain (hostnames, node names). */
export function DNSSubdomainField(description: string) {
  return Type.String({ minLength: 1, maxLength: 253, pattern: DNS1123_SUBDOMAIN_PATTERN, description });
}

/** A TCP/UDP port, 1-65535. */
export function PortField(description: string) {
  return Type.Integer({ minimum: 1, maximum: 65535, format: 'int32', description });
}

/** An RFC 3339 timestamp. */
export function TimestampField(description: string) {
  return Type.String({ format: 'date-time', description });
}

/** metadata.generation observed by the writer of a status. */
export function ObservedGenerationField(description = 'The metadata.generation this status was computed from.') {
  return Type.Integer({ minimum: 0, format: 'int64', description });
}

/** The cable drivers Strait ships. */
export const BACKENDS = ['wireguard', 'ipsec', 'vxlan'] as const;
export const BackendSchema = StringEnum(BACKENDS, {
  description: 'Cable driver that carries the tunnel: wireguard, ipsec or vxlan.',
});
export type Backend = Static<typeof BackendSchema>;

export const WireGuardConfigSchema = Type.Object(
  {
    publicKey: Type.String({
      minLength: 44,
      maxLength: 44,
      pattern: WIREGUARD_KEY_PATTERN,
      description: 'WireGuard public key of the cluster (32 bytes, base64, 44 characters). Never the private key.',
    }),
    port: PortField('UDP port the WireGuard device listens on.'),
  },
  { description: 'WireGuard settings.' },
);
export type WireGuardConfig = Static<typeof WireGuardConfigSchema>;

export const IPsecConfigSchema = Type.Object(
  {
    ikeID: Type.String({
      minLength: 1,
      maxLength: 253,
      pattern: '^[A-Za-z0-9][-A-Za-z0-9@._:=]*$',
      description: 'IKE identity of the gateway (peers authenticate it by this ID).',
    }),
    port: PortField('UDP port for IKE (usually 500).'),
    natTPort: Type.Optional(PortField('UDP port for NAT traversal (ESP in UDP, usually 4500).')),
  },
  { description: 'IPsec (IKEv2) settings. The pre-shared key or certificates live in a Secret, never here.' },
);
export type IPsecConfig = Static<typeof IPsecConfigSchema>;

export const VxlanConfigSchema = Type.Object(
  {
    vni: Type.Integer({ minimum: 1, maximum: 16777215, format: 'int32', description: 'VXLAN network identifier (1-16777215).' }),
    port: PortField('UDP port of the VXLAN tunnel (usually 4789).'),
  },
  { description: 'VXLAN settings (unencrypted; for trusted underlays).' },
);
export type VxlanConfig = Static<typeof VxlanConfigSchema>;

export const BackendConfigSchema = Type.Object(
  {
    wireguard: Type.Optional(WireGuardConfigSchema),
    ipsec: Type.Optional(IPsecConfigSchema),
    vxlan: Type.Optional(VxlanConfigSchema),
  },
  { description: 'Settings of the selected backend: exactly the member named by `backend` is set.' },
);
export type BackendConfig = Static<typeof BackendConfigSchema>;

/** An Endpoint's VXLAN offer: the port; the VNI belongs to a pair of clusters and is chosen per TunnelEndpoint. */
export const EndpointVxlanConfigSchema = Type.Object(
  {
    port: PortField('UDP port of the VXLAN tunnel (usually 4789), the same on both gateways.'),
    vni: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 16777215,
        format: 'int32',
        description: 'Ignored by peers: each pair of clusters derives its own VNI from the two cluster IDs.',
      }),
    ),
  },
  { description: 'VXLAN offer (unencrypted; for trusted underlays).' },
);
export type EndpointVxlanConfig = Static<typeof EndpointVxlanConfigSchema>;

/** The settings of every backend an Endpoint's gateway offers. */
export const EndpointBackendConfigSchema = Type.Object(
  {
    wireguard: Type.Optional(WireGuardConfigSchema),
    ipsec: Type.Optional(IPsecConfigSchema),
    vxlan: Type.Optional(EndpointVxlanConfigSchema),
  },
  {
    description:
      'Settings of every backend the gateway offers: the member named by `backend` (the preferred one) must be set; ' +
      'the others set are offered too. Each pair of clusters uses one backend both offer (see docs/adr/0011).',
  },
);
export type EndpointBackendConfig = Static<typeof EndpointBackendConfigSchema>;

/** The backends an Endpoint offers: the preferred one first, then the others in BACKENDS order. */
export function offeredBackends(spec: { backend: Backend; backendConfig: EndpointBackendConfig }): Backend[] {
  const config = spec.backendConfig as Record<string, unknown>;
  return [spec.backend, ...BACKENDS.filter((b) => b !== spec.backend && config[b] !== undefined)];
}

/** An Endpoint's rule: the preferred backend's settings are present (other backends' settings may be too). */
export const backendConfigOffersBackend = {
  rule:
    "self.backend == 'wireguard' ? has(self.backendConfig.wireguard) : " +
    "self.backend == 'ipsec' ? has(self.backendConfig.ipsec) : has(self.backendConfig.vxlan)",
  messageExpression: `'backendConfig must set ' + self.backend + ', the preferred backend'`,
  fieldPath: '.backendConfig',
  check: (self: { backend: string; backendConfig: EndpointBackendConfig }, report: (message: string) => void) => {
    const config = self.backendConfig as Record<string, unknown> | null;
    if (typeof config !== 'object' || config === null || typeof self.backend !== 'string') return;
    if (config[self.backend] === undefined) report(`backendConfig must set ${self.backend}, the preferred backend`);
  },
};

/** The rule shared by every spec with `backend` + `backendConfig`. */
export const backendConfigMatchesBackend = {
  rule:
    "has(self.backendConfig.wireguard) == (self.backend == 'wireguard') && " +
    "has(self.backendConfig.ipsec) == (self.backend == 'ipsec') && " +
    "has(self.backendConfig.vxlan) == (self.backend == 'vxlan')",
  messageExpression: `'backendConfig must set ' + self.backend + ' and no other backend'`,
  fieldPath: '.backendConfig',
  check: (self: { backend: string; backendConfig: BackendConfig }, report: (message: string) => void) => {
    const config = self.backendConfig;
    if (typeof config !== 'object' || config === null) return;
    for (const backend of BACKENDS) {
      if ((config[backend] !== undefined) !== (self.backend === backend)) {
        report(`backendConfig must set ${String(self.backend)} and no other backend`);
        return;
      }
    }
  },
};

export const ConditionSchema = Type.Object(
  {
    type: Type.String({
      minLength: 1,
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
      description: 'Type of condition in CamelCase, e.g. Ready.',
    }),
    status: StringEnum(['True', 'False', 'Unknown'], { description: 'True, False or Unknown.' }),
    observedGeneration: Type.Optional(ObservedGenerationField('The metadata.generation the condition was set from.')),
    lastTransitionTime: TimestampField('When the condition last changed status.'),
    reason: Type.String({
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      description: 'Programmatic identifier of the reason, CamelCase.',
    }),
    message: Type.String({ maxLength: 32768, description: 'Human-readable details.' }),
  },
  { description: 'A standard Kubernetes condition.' },
);
export type Condition = Static<typeof ConditionSchema>;

export function ConditionsField() {
  return Type.Array(ConditionSchema, {
    maxItems: 16,
    description: 'Standard conditions (Ready, ...), one per type.',
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });
}

/** Round-trip time statistics, in milliseconds. */
export const LatencySchema = Type.Object(
  {
    lastMs: Type.Number({ minimum: 0, description: 'Last measured round-trip time.' }),
    minMs: Type.Number({ minimum: 0, description: 'Minimum round-trip time.' }),
    averageMs: Type.Number({ minimum: 0, description: 'Mean round-trip time.' }),
    maxMs: Type.Number({ minimum: 0, description: 'Maximum round-trip time.' }),
    stdDevMs: Type.Number({ minimum: 0, description: 'Standard deviation of the round-trip time.' }),
    samples: Type.Optional(Type.Integer({ minimum: 0, format: 'int64', description: 'Number of samples behind the figures.' })),
  },
  { description: 'Round-trip time statistics of the tunnel, in milliseconds.' },
);
export type Latency = Static<typeof LatencySchema>;

/** Connection state of a tunnel. */
export const TUNNEL_PHASES = ['Connecting', 'Connected', 'Error'] as const;
export const TunnelPhaseSchema = StringEnum(TUNNEL_PHASES, {
  description: 'Connecting (configured, no handshake yet), Connected, or Error (see conditions).',
});
export type TunnelPhase = Static<typeof TunnelPhaseSchema>;
