import { GATEWAY_VETH, HEALTH_CHECK_IP_ANNOTATION, HOST_VETH, ROUTING_TABLE_ID, cidrContainsIP, formatIP, parseCIDR, parseIP, type TunnelEndpoint } from '@strait/api';
import type { PeerSpec } from '@strait/drivers';
import { objectKey } from '@strait/kube';
import type { AddressSpec, NftTableSpec, RouteSpec, RuleSpec } from '@strait/net';

/**
 * Pure desired state of the tunnels (leader only), from the TunnelEndpoints:
 *  - per peer, the cable driver's PeerSpec: remote subnets AS SEEN LOCALLY (the remapped CIDR where
 *    the TunnelEndpoint has one), local subnets as the peer sees them (our remapped pod CIDR);
 *  - host namespace: policy rules `to <routed>` and `from <routed>` → table 18952, and table 18952
 *    routes `<routed> via <gateway end of the veth>`;
 *  - gateway namespace: nft `inet strait_remap`, per peer with a local remap, a 1:1 prefix SNAT of
 *    our pod CIDR to our remapped CIDR for traffic to that peer, and the matching DNAT for traffic
 *    from it (conntrack reverses both for replies).
 * Each object carries one peer's CIDRs only, so deleting a TunnelEndpoint removes exactly its rules,
 * routes and NAT rules from the next desired state.
 */

export const REMAP_TABLE = 'strait_remap';
/** Policy-rule priorities in the host namespace (before the main table at 32766). */
export const RULE_PRIORITY_TO = 18950;
export const RULE_PRIORITY_FROM = 18951;

export class PeerSpecError extends Error {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = 'PeerSpecError';
    this.field = field;
  }
}

export interface LocalPlan {
  readonly clusterId: string;
  /** Our pod CIDRs (`--pod-cidrs`). */
  readonly podCidrs: readonly string[];
  /** This gateway's health-check address (inside podCidrs). */
  readonly healthCheckIp?: string | undefined;
  /** Key material from the Secret (never logged). */
  readonly ipsecPsk?: string | undefined;
}

export interface PrefixMap {
  readonly from: string;
  readonly to: string;
}

export interface PeerDesired {
  /** `namespace/name` of the TunnelEndpoint. */
  readonly key: string;
  readonly clusterId: string;
  readonly generation: number | undefined;
  readonly spec: PeerSpec;
  /** Remote CIDRs as this cluster addresses them (routed into the tunnel). */
  readonly routed: readonly string[];
  /** SNAT our pod CIDR → our remapped CIDR towards this peer (and DNAT back for traffic from it). */
  readonly remap: readonly PrefixMap[];
  /**
   * Under a local remap: our health-check address as this peer addresses it (the image of
   * `--health-check-ip` in our remapped CIDR), assigned in the gateway namespace so that the probe
   * leaves from it (the driver's local subnets are the remapped CIDR) and the peer's replies reach it.
   */
  readonly healthAddress?: string | undefined;
}

/** The image of `ip` under the 1:1 prefix translation `from` → `to` (same prefix length); undefined outside `from`. */
export function translateIp(ip: string, from: string, to: string): string | undefined {
  const a = parseIP(ip);
  const f = parseCIDR(from);
  const t = parseCIDR(to);
  if (!a || !f || !t || !cidrContainsIP(f, a) || t.address.family !== a.family || t.prefixLength !== f.prefixLength) return undefined;
  const host = (1n << BigInt((a.family === 4 ? 32 : 128) - t.prefixLength)) - 1n;
  return formatIP({ family: a.family, value: (t.address.value & ~host) | (a.value & host) });
}

function family(cidr: string): 4 | 6 {
  return parseCIDR(cidr)!.address.family;
}

function replaceFamily(list: readonly string[], replacement: string | undefined): string[] {
  if (!replacement) return [...list];
  const f = family(replacement);
  return [...list.filter((c) => family(c) !== f), replacement];
}

/** The driver spec and per-peer datapath of one TunnelEndpoint; throws PeerSpecError naming the field. */
export function desiredPeer(tep: TunnelEndpoint, local: LocalPlan): PeerDesired {
  const s = tep.spec;
  if (!s || typeof s !== 'object') throw new PeerSpecError('spec', 'missing');
  const key = objectKey(tep);
  const remap = s.remap ?? {};
  const remotePods = replaceFamily(s.remote.podCIDRs, remap.remotePodCIDR);
  const external = remap.remoteExternalCIDR ?? s.remote.externalCIDR;
  const routed = [...remotePods, ...(external ? [external] : [])].sort();

  const nat: PrefixMap[] = [];
  if (remap.localPodCIDR) {
    const f = family(remap.localPodCIDR);
    const original = local.podCidrs.find((c) => family(c) === f);
    if (!original) throw new PeerSpecError('spec.remap.localPodCIDR', `needs this cluster's IPv${f} pod CIDR (--pod-cidrs) to translate from`);
    if (parseCIDR(original)!.prefixLength !== parseCIDR(remap.localPodCIDR)!.prefixLength) {
      throw new PeerSpecError('spec.remap.localPodCIDR', `must have the prefix length of our pod CIDR ${original}`);
    }
    nat.push({ from: original, to: remap.localPodCIDR });
  }
  const localSubnets = replaceFamily(local.podCidrs, remap.localPodCIDR).sort();

  const remoteHealth = tep.metadata?.annotations?.[HEALTH_CHECK_IP_ANNOTATION];
  let healthCheck: { localIp: string; remoteIp: string } | undefined;
  let healthAddress: string | undefined;
  if (remoteHealth !== undefined && local.healthCheckIp) {
    const field = `metadata.annotations[${HEALTH_CHECK_IP_ANNOTATION}]`;
    if (!parseIP(remoteHealth)) throw new PeerSpecError(field, `${JSON.stringify(remoteHealth)} is not an IP address`);
    if (!routed.some((c) => cidrContainsIP(c, remoteHealth))) throw new PeerSpecError(field, `${remoteHealth} is not inside the remote CIDRs ${routed.join(', ')}`);
    // Under a local remap the probe leaves from our health-check address as the peer knows it (it is
    // not translated: the SNAT only matches our real pod CIDR; the reply belongs to its conntrack entry).
    const own = local.healthCheckIp;
    const mapped = nat.map((m) => translateIp(own, m.from, m.to)).find((x) => x !== undefined);
    healthAddress = mapped;
    healthCheck = { localIp: mapped ?? local.healthCheckIp, remoteIp: remoteHealth };
  }
  const base = { clusterId: s.remoteClusterID, endpoint: { ip: s.endpoint.address, port: s.endpoint.port }, remoteSubnets: routed, localSubnets, ...(healthCheck ? { healthCheck } : {}) };
  let spec: PeerSpec;
  switch (s.backend) {
    case 'wireguard': {
      const wg = s.backendConfig.wireguard;
      if (!wg) throw new PeerSpecError('spec.backendConfig.wireguard', 'required for backend wireguard');
      spec = { ...base, backend: 'wireguard', backendConfig: { publicKey: wg.publicKey } };
      break;
    }
    case 'ipsec': {
      const ipsec = s.backendConfig.ipsec;
      if (!ipsec) throw new PeerSpecError('spec.backendConfig.ipsec', 'required for backend ipsec');
      if (!local.ipsecPsk) throw new PeerSpecError('ipsec-psk', 'the key Secret has no ipsec-psk');
      spec = { ...base, backend: 'ipsec', backendConfig: { psk: local.ipsecPsk, remoteId: ipsec.ikeID } };
      break;
    }
    case 'vxlan': {
      const vx = s.backendConfig.vxlan;
      if (!vx) throw new PeerSpecError('spec.backendConfig.vxlan', 'required for backend vxlan');
      spec = { ...base, backend: 'vxlan', backendConfig: { vni: vx.vni } };
      break;
    }
    default:
      throw new PeerSpecError('spec.backend', `unknown backend ${JSON.stringify(s.backend)}`);
  }
  return { key, clusterId: s.remoteClusterID, generation: tep.metadata?.generation, spec, routed, remap: nat, ...(healthAddress ? { healthAddress } : {}) };
}

export interface HostPeerState {
  readonly rules: readonly RuleSpec[];
  readonly routes: readonly RouteSpec[];
}

/** Host namespace: rules to table 18952 and its routes into the veth, for every peer's routed CIDRs. */
export function hostPeerState(peers: Iterable<PeerDesired>, gatewayIp: string): HostPeerState {
  const cidrs = new Set<string>();
  for (const p of peers) for (const c of p.routed) cidrs.add(c);
  const sorted = [...cidrs].sort();
  const rules: RuleSpec[] = [];
  const routes: RouteSpec[] = [];
  for (const c of sorted) {
    rules.push({ priority: RULE_PRIORITY_TO, to: c, table: ROUTING_TABLE_ID });
    rules.push({ priority: RULE_PRIORITY_FROM, from: c, table: ROUTING_TABLE_ID });
    // IPv4 over the IPv4 veth; an IPv6 remote CIDR needs an IPv6 veth address (not configured yet).
    if (family(c) === 4) routes.push({ dst: c, via: gatewayIp, dev: HOST_VETH, table: ROUTING_TABLE_ID });
  }
  return { rules, routes };
}

/** Gateway namespace: the peers' remapped health-check addresses (host prefixes on the gateway end of the veth). */
export function peerHealthAddresses(peers: Iterable<PeerDesired>): AddressSpec[] {
  const set = new Set<string>();
  for (const p of peers) if (p.healthAddress) set.add(p.healthAddress);
  return [...set].sort().map((ip) => ({ dev: GATEWAY_VETH, address: `${ip}/${ip.includes(':') ? 128 : 32}`, noprefixroute: true }));
}

/** Gateway namespace: the remap table (empty chains when no peer needs a remap). */
export function remapTable(peers: Iterable<PeerDesired>): NftTableSpec {
  const post: string[] = [];
  const pre: string[] = [];
  const list = [...peers].sort((a, b) => a.clusterId.localeCompare(b.clusterId));
  for (const p of list) {
    for (const m of p.remap) {
      const f = family(m.from);
      const ipk = f === 4 ? 'ip' : 'ip6';
      const dsts = p.routed.filter((c) => family(c) === f);
      if (dsts.length === 0) continue;
      const set = `{ ${dsts.join(', ')} }`;
      post.push(`${ipk} saddr ${m.from} ${ipk} daddr ${set} snat ${ipk} prefix to ${ipk} saddr map { ${m.from} : ${m.to} }`);
      pre.push(`${ipk} saddr ${set} ${ipk} daddr ${m.to} dnat ${ipk} prefix to ${ipk} daddr map { ${m.to} : ${m.from} }`);
    }
  }
  return {
    family: 'inet',
    name: REMAP_TABLE,
    chains: [
      { name: 'prerouting', type: 'nat', hook: 'prerouting', priority: 'dstnat', policy: 'accept', rules: pre },
      { name: 'postrouting', type: 'nat', hook: 'postrouting', priority: 'srcnat', policy: 'accept', rules: post },
    ],
  };
}
