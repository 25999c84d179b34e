import { GATEWAY_LEASE_NAME, TunnelEndpointResource, type TunnelEndpoint } from '@strait/api';
import { CrClient, LeaseResource, type KubeObject } from '@strait/kube';
import { loadKubeConfig } from '@strait/testing';
import { STRAIT_NAMESPACE } from './constants.ts';
import type { LabState } from './state.ts';

/** The gateway Lease of the tunnel-operators: its holder is the active gateway replica. */
export const GATEWAY_LEASE = GATEWAY_LEASE_NAME;

export interface TunnelView {
  /** The cluster holding the TunnelEndpoint. */
  cluster: string;
  peer: string;
  backend: string;
  endpoint: string;
  phase: string;
  rttMs: number | undefined;
  /** The peer's pod CIDR as this cluster addresses it (the remap when there is one). */
  peerCidr: string | undefined;
  /** The peer's real pod CIDR. */
  peerPodCidr: string | undefined;
}

export interface GatewayView {
  cluster: string;
  node: string;
  pod: string;
  role: 'active' | 'standby';
}

export interface ClusterView {
  cluster: string;
  /** The gateway Lease's holder (a tunnel-operator pod name), '' when none. */
  holder: string;
  gateways: GatewayView[];
  tunnels: TunnelView[];
  /** Set when the API server could not be read. */
  error?: string;
}

type Lease = KubeObject & { spec?: { holderIdentity?: string } };

/** Reads the active gateway and the TunnelEndpoints of one member cluster. */
export async function viewCluster(state: LabState, cluster: string): Promise<ClusterView> {
  const c = state.clusters.find((x) => x.name === cluster);
  const gatewaysOf = (holder: string): GatewayView[] =>
    state.nodes
      .filter((n) => n.cluster === cluster && n.role === 'gateway')
      .map((n) => ({ cluster, node: n.name, pod: n.gatewayPod ?? n.name, role: n.gatewayPod === holder ? 'active' : 'standby' }));
  if (!c) return { cluster, holder: '', gateways: [], tunnels: [], error: `no cluster ${cluster} in this lab` };
  try {
    const kc = loadKubeConfig(c.kubeconfig);
    const signal = AbortSignal.timeout(5_000);
    const lease = await new CrClient<Lease>(kc, LeaseResource).get({ namespace: STRAIT_NAMESPACE, name: GATEWAY_LEASE }, { signal });
    const holder = lease?.spec?.holderIdentity ?? '';
    const teps = (await new CrClient<TunnelEndpoint>(kc, TunnelEndpointResource).list({ namespace: STRAIT_NAMESPACE })).items;
    const tunnels = teps
      .map((t) => ({
        cluster,
        peer: t.spec.remoteClusterID,
        backend: t.spec.backend,
        endpoint: `${t.spec.endpoint.address}:${t.spec.endpoint.port}`,
        phase: t.status?.phase ?? 'Pending',
        rttMs: t.status?.latency?.averageMs,
        peerCidr: t.spec.remap?.remotePodCIDR ?? t.spec.remote.podCIDRs[0],
        peerPodCidr: t.spec.remote.podCIDRs[0],
      }))
      .sort((a, b) => a.peer.localeCompare(b.peer));
    return { cluster, holder, gateways: gatewaysOf(holder), tunnels };
  } catch (err) {
    return { cluster, holder: '', gateways: gatewaysOf(''), tunnels: [], error: (err as Error).message.split('\n')[0] ?? String(err) };
  }
}

export async function viewMembers(state: LabState): Promise<ClusterView[]> {
  return Promise.all(state.clusters.filter((c) => c.role === 'member').map((c) => viewCluster(state, c.name)));
}

/** `ip` with its host part carried into `cidr` (same prefix length): a pod's address behind a remap. */
export function translate(ip: string, fromCidr: string, toCidr: string): string {
  const bits = Number(fromCidr.split('/')[1]);
  const toNum = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const v = ((toNum(toCidr.split('/')[0]!) & mask) | (toNum(ip) & ~mask)) >>> 0;
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}
