import {
  API_GROUP_VERSION,
  BROKER_SYNC_COMPONENT,
  COMPONENT_LABEL,
  HEALTH_CHECK_IP_ANNOTATION,
  HEARTBEAT_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  ORIGIN_CLUSTER_LABEL,
  REMAPS_ANNOTATION,
  REMOTE_CLUSTER_LABEL,
  cidrContainsIP,
  formatIP,
  parseCIDR,
  parseIP,
  validateCluster,
  validateEndpoint,
  type Cluster,
  type ClusterSpec,
  type Endpoint,
  type EndpointSpec,
  type NatMapping,
  type TunnelEndpoint,
} from '@strait/api';
import { chooseBackend, tunnelBackendConfig } from './backend.ts';

/**
 * Pure mapping of the Broker's objects of one remote cluster to this cluster's TunnelEndpoint and
 * NatMapping. Every check that fails names the field; a peer that fails is skipped (and reported),
 * never half-applied.
 */

/** This cluster's own plan (from its local Cluster). */
export interface LocalPlan {
  readonly clusterId: string;
  readonly namespace: string;
  readonly podCidrs: readonly string[];
  readonly serviceCidrs: readonly string[];
  readonly externalCidr?: string | undefined;
}

/** One remote cluster as read from the Broker, checked. */
export interface RemotePeer {
  readonly clusterId: string;
  readonly cluster: ClusterSpec;
  /** undefined until the remote gateway has published its Endpoint. */
  readonly endpoint: EndpointSpec | undefined;
  /** Last heartbeat (ms since the epoch), when the remote cluster wrote one. */
  readonly heartbeatMs: number | undefined;
  /** The CIDR under which the remote cluster addresses our pods (it announced it), if any. */
  readonly presentation: string | undefined;
  /**
   * The CIDRs under which the remote cluster addresses its OTHER peers (its announced remaps, ours left
   * out). Our pods must not be presented to it inside one of them: it could not tell them apart from
   * that peer's (its own health-check address on our tunnel would shadow that peer's).
   */
  readonly views?: readonly string[] | undefined;
}

export type ParseResult = { readonly ok: true; readonly peer: RemotePeer } | { readonly ok: false; readonly clusterId: string; readonly reason: string };

/** The remote cluster ID an object claims by its origin label (the Broker's admission policy enforces it). */
export function originOf(obj: { metadata?: { labels?: Record<string, string> | undefined } | undefined }): string | undefined {
  return obj.metadata?.labels?.[ORIGIN_CLUSTER_LABEL];
}

function firstErrors(errors: readonly string[]): string {
  return errors.slice(0, 3).join('; ') + (errors.length > 3 ? ` (and ${errors.length - 3} more)` : '');
}

/** Parses the remaps annotation of a remote Cluster: peer ID → pod CIDR. Throws naming the problem. */
export function parseRemaps(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (text === undefined) return out;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`annotation ${REMAPS_ANNOTATION} is not JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`annotation ${REMAPS_ANNOTATION} must be a JSON object`);
  for (const [peer, entry] of Object.entries(v as Record<string, unknown>)) {
    const cidr = (entry as { podCIDR?: unknown } | null)?.podCIDR;
    if (typeof cidr !== 'string' || !parseCIDR(cidr)) throw new Error(`annotation ${REMAPS_ANNOTATION}: ${peer}.podCIDR must be a CIDR (got ${JSON.stringify(cidr)})`);
    out.set(peer, cidr);
  }
  return out;
}

/** Renders the remaps annotation (keys sorted, so equal content gives equal text). */
export function renderRemaps(remaps: ReadonlyMap<string, string>): string {
  const sorted = [...remaps].sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify(Object.fromEntries(sorted.map(([k, v]) => [k, { podCIDR: v }])));
}

/**
 * Checks one remote cluster's Cluster and Endpoint (either may be missing: a Cluster without an Endpoint is a
 * peer whose gateway has not published yet; an Endpoint without a Cluster is an error).
 */
export function parseRemote(clusterId: string, cluster: unknown, endpoint: unknown, local: LocalPlan): ParseResult {
  const fail = (reason: string): ParseResult => ({ ok: false, clusterId, reason });
  if (cluster === undefined) return fail(`Endpoint without a Cluster on the Broker`);
  const c = validateCluster(cluster);
  if (!c.ok) return fail(`Cluster: ${firstErrors(c.errors)}`);
  const cl = c.value as Cluster;
  if (cl.spec.clusterID !== clusterId) return fail(`Cluster: spec.clusterID ${cl.spec.clusterID} does not match its origin label ${clusterId}`);
  let ep: EndpointSpec | undefined;
  if (endpoint !== undefined) {
    const e = validateEndpoint(endpoint);
    if (!e.ok) return fail(`Endpoint: ${firstErrors(e.errors)}`);
    const spec = (e.value as Endpoint).spec;
    if (spec.clusterID !== clusterId) return fail(`Endpoint: spec.clusterID ${spec.clusterID} does not match its origin label ${clusterId}`);
    const cfg = (spec.backendConfig as Record<string, { port?: number } | undefined>)[spec.backend];
    if (!cfg) return fail(`Endpoint: spec.backendConfig.${spec.backend} is required for backend ${spec.backend}`);
    ep = spec;
  }
  let remaps: Map<string, string>;
  try {
    remaps = parseRemaps(cl.metadata?.annotations?.[REMAPS_ANNOTATION]);
  } catch (e) {
    return fail(`Cluster: ${(e as Error).message}`);
  }
  const presentation = remaps.get(local.clusterId);
  if (presentation !== undefined) {
    const p = parseCIDR(presentation)!;
    const own = local.podCidrs.find((x) => parseCIDR(x)?.address.family === p.address.family);
    if (!own || parseCIDR(own)!.prefixLength !== p.prefixLength) {
      return fail(`Cluster: annotation ${REMAPS_ANNOTATION}: ${local.clusterId}.podCIDR ${presentation} must have the family and prefix length of our pod CIDR ${own ?? '(none)'}`);
    }
  }
  const hb = cl.metadata?.annotations?.[HEARTBEAT_ANNOTATION];
  let heartbeatMs: number | undefined;
  if (hb !== undefined) {
    heartbeatMs = Date.parse(hb);
    if (!Number.isFinite(heartbeatMs)) return fail(`Cluster: annotation ${HEARTBEAT_ANNOTATION} ${JSON.stringify(hb)} is not a time`);
  }
  const views = [...remaps].filter(([id]) => id !== local.clusterId).map(([, cidr]) => cidr);
  return { ok: true, peer: { clusterId, cluster: cl.spec, endpoint: ep, heartbeatMs, presentation, ...(views.length ? { views } : {}) } };
}

/** `ip` (inside `from`) moved to the same offset inside `to` (same prefix length). */
export function translateIP(ip: string, from: string, to: string): string | undefined {
  const a = parseIP(ip);
  const f = parseCIDR(from);
  const t = parseCIDR(to);
  if (!a || !f || !t || !cidrContainsIP(f, a) || f.address.family !== t.address.family || f.prefixLength !== t.prefixLength) return undefined;
  const bits = a.family === 4 ? 32 : 128;
  const host = (1n << BigInt(bits - f.prefixLength)) - 1n;
  return formatIP({ family: a.family, value: (t.address.value & ~host) | (a.value & host) });
}

/** The remote pod CIDRs as this cluster addresses them. */
export function seenPodCidrs(peer: RemotePeer, remotePodCIDR: string | undefined): string[] {
  if (!remotePodCIDR) return [...peer.cluster.podCIDRs];
  const fam = parseCIDR(remotePodCIDR)!.address.family;
  return [...peer.cluster.podCIDRs.filter((c) => parseCIDR(c)!.address.family !== fam), remotePodCIDR];
}

export function ownedLabels(peer: string): Record<string, string> {
  return { [REMOTE_CLUSTER_LABEL]: peer, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [COMPONENT_LABEL]: BROKER_SYNC_COMPONENT };
}

/** Label selector of the local objects broker-sync owns. */
export const OWNED_SELECTOR = `${REMOTE_CLUSTER_LABEL},${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${COMPONENT_LABEL}=${BROKER_SYNC_COMPONENT}`;

/**
 * The TunnelEndpoint towards a peer (its Endpoint and ours must be known): the backend both clusters choose
 * from their offers (chooseBackend; throws NoCommonBackendError when they have none in common) with the
 * peer's settings for it.
 */
export function desiredTunnelEndpoint(peer: RemotePeer, local: LocalPlan, localEndpoint: EndpointSpec, remotePodCIDR: string | undefined): TunnelEndpoint {
  const ep = peer.endpoint;
  if (!ep) throw new Error(`${peer.clusterId} has no Endpoint`);
  const backend = chooseBackend(local.clusterId, localEndpoint, peer.clusterId, ep);
  const { port, config } = tunnelBackendConfig(backend, local.clusterId, peer.clusterId, ep);
  const annotations: Record<string, string> = {};
  if (ep.healthCheckIP) {
    const original = peer.cluster.podCIDRs.find((c) => cidrContainsIP(c, ep.healthCheckIP!));
    const seen = remotePodCIDR && original && parseCIDR(original)!.address.family === parseCIDR(remotePodCIDR)!.address.family ? translateIP(ep.healthCheckIP, original, remotePodCIDR) : ep.healthCheckIP;
    if (seen) annotations[HEALTH_CHECK_IP_ANNOTATION] = seen;
  }
  const remap: Record<string, string> = {};
  if (remotePodCIDR) remap['remotePodCIDR'] = remotePodCIDR;
  if (peer.presentation) remap['localPodCIDR'] = peer.presentation;
  return {
    apiVersion: API_GROUP_VERSION,
    kind: 'TunnelEndpoint',
    metadata: { name: peer.clusterId, namespace: local.namespace, labels: ownedLabels(peer.clusterId), annotations },
    spec: {
      remoteClusterID: peer.clusterId,
      endpoint: { address: ep.publicIP ?? ep.privateIP, port },
      backend,
      backendConfig: config,
      remote: { podCIDRs: [...peer.cluster.podCIDRs], ...(peer.cluster.externalCIDR ? { externalCIDR: peer.cluster.externalCIDR } : {}) },
      ...(Object.keys(remap).length > 0 ? { remap } : {}),
    },
  } as TunnelEndpoint;
}

/**
 * The NatMapping offered to a peer: our external CIDR, reachable from the peer's pods as they appear here.
 * undefined when this cluster has no external CIDR or the peer has no pod CIDR of its family.
 * Entries are not broker-sync's: the apply leaves the entries other writers own.
 */
export function desiredNatMapping(peer: RemotePeer, local: LocalPlan, remotePodCIDR: string | undefined): NatMapping | undefined {
  if (!local.externalCidr) return undefined;
  const fam = parseCIDR(local.externalCidr)!.address.family;
  const pod = seenPodCidrs(peer, remotePodCIDR).find((c) => parseCIDR(c)!.address.family === fam);
  if (!pod) return undefined;
  return {
    apiVersion: API_GROUP_VERSION,
    kind: 'NatMapping',
    metadata: { name: peer.clusterId, namespace: local.namespace, labels: ownedLabels(peer.clusterId) },
    spec: { clusterID: peer.clusterId, podCIDR: pod, externalCIDR: local.externalCidr, entries: [] },
  } as NatMapping;
}
