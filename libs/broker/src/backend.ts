import { createHash } from 'node:crypto';
import { BACKENDS, offeredBackends, type Backend, type BackendConfig, type EndpointSpec } from '@strait/api';

/**
 * Backend negotiation (docs/adr/0011): each Endpoint offers one or more cable drivers, its preferred one
 * first. Both clusters of a pair run these pure functions on the same two Endpoints and so agree on the
 * driver, and for VXLAN on the VNI, without talking to each other.
 */

/** The offers of both clusters have no backend in common. */
export class NoCommonBackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoCommonBackendError';
  }
}

type Offer = Pick<EndpointSpec, 'backend' | 'backendConfig'>;

function describeOffer(id: string, offer: Offer): string {
  return `${id} offers ${offeredBackends(offer).join(', ')} (prefers ${offer.backend})`;
}

/**
 * The backend of the tunnel between two clusters, the same whichever side computes it:
 *  - only backends both offer are candidates (none: NoCommonBackendError naming both offers);
 *  - both prefer the same candidate: it;
 *  - else the preference of the cluster whose id sorts first, if a candidate; else the other's, if a candidate;
 *  - else the first candidate in BACKENDS order.
 */
export function chooseBackend(localId: string, local: Offer, remoteId: string, remote: Offer): Backend {
  const mine = offeredBackends(local);
  const theirs = offeredBackends(remote);
  const common = BACKENDS.filter((b) => mine.includes(b) && theirs.includes(b));
  if (common.length === 0) {
    throw new NoCommonBackendError(`no cable driver in common: ${describeOffer(localId, local)}; ${describeOffer(remoteId, remote)}`);
  }
  if (local.backend === remote.backend && common.includes(local.backend)) return local.backend;
  const [first, second] = localId < remoteId ? [local, remote] : [remote, local];
  if (common.includes(first.backend)) return first.backend;
  if (common.includes(second.backend)) return second.backend;
  return common[0]!;
}

/** Lowest VNI a pair of clusters gets: far above small hand-picked VNIs and the route-agent overlay's 4800. */
export const PAIR_VNI_MIN = 0x10000;
/** Highest VNI (24 bits). */
export const PAIR_VNI_MAX = 0xffffff;

/** The VXLAN network identifier of a pair of clusters: a hash of the two ids in sorted order (symmetric, deterministic). */
export function pairVni(idA: string, idB: string): number {
  const [x, y] = idA < idB ? [idA, idB] : [idB, idA];
  const h = createHash('sha256').update(`strait-vxlan\n${x}\n${y}`).digest().readUInt32BE(0);
  return PAIR_VNI_MIN + (h % (PAIR_VNI_MAX - PAIR_VNI_MIN + 1));
}

/**
 * The TunnelEndpoint's settings of the chosen backend: the remote's offer for it; for VXLAN the pair's VNI
 * and the remote's port.
 */
export function tunnelBackendConfig(backend: Backend, localId: string, remoteId: string, remote: Offer): { port: number; config: BackendConfig } {
  const offered = (remote.backendConfig as Record<string, { port: number } | undefined>)[backend];
  if (!offered) throw new NoCommonBackendError(`${remoteId} does not offer ${backend}`);
  if (backend === 'vxlan') return { port: offered.port, config: { vxlan: { vni: pairVni(localId, remoteId), port: offered.port } } };
  return { port: offered.port, config: { [backend]: offered } as BackendConfig };
}
