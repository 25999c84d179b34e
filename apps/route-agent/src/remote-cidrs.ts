import { isMaskedCIDR, parseCIDR, type TunnelEndpoint } from '@strait/api';
import { objectKey } from '@strait/kube';

/**
 * The remote CIDRs this cluster routes to its active gateway, as THIS cluster addresses them: each
 * TunnelEndpoint's remote pod CIDRs (the remapped one replacing the pod CIDR of its family) and its
 * external CIDR (remapped when the TunnelEndpoint says so) — the same CIDRs tunnel-operator routes
 * into the tunnels and matches with its table-18952 rules. A malformed TunnelEndpoint is reported
 * and skipped; the others keep working.
 */

export interface RemoteCidrProblem {
  /** `namespace/name` of the TunnelEndpoint. */
  readonly key: string;
  readonly object: TunnelEndpoint;
  readonly message: string;
}

export interface RemoteCidrs {
  /** Sorted, unique. */
  readonly cidrs: readonly string[];
  readonly problems: readonly RemoteCidrProblem[];
}

class Bad extends Error {}

function cidr(field: string, v: unknown): string {
  if (typeof v !== 'string' || !parseCIDR(v)) throw new Bad(`${field}: ${JSON.stringify(v)} is not a CIDR`);
  if (!isMaskedCIDR(v)) throw new Bad(`${field}: ${v} has host bits set`);
  return v;
}

const familyOf = (c: string): 4 | 6 => parseCIDR(c)!.address.family;

/** The routed CIDRs of one TunnelEndpoint; throws naming the field. */
export function routedCidrsOf(tep: TunnelEndpoint): string[] {
  const s = tep.spec as TunnelEndpoint['spec'] | undefined;
  if (!s || typeof s !== 'object') throw new Bad('spec: missing');
  const remote = s.remote as TunnelEndpoint['spec']['remote'] | undefined;
  if (!remote || !Array.isArray(remote.podCIDRs) || remote.podCIDRs.length === 0) throw new Bad('spec.remote.podCIDRs: missing');
  const pods = remote.podCIDRs.map((c, i) => cidr(`spec.remote.podCIDRs[${i}]`, c));
  const remap = s.remap ?? {};
  let routed = pods;
  if (remap.remotePodCIDR !== undefined) {
    const r = cidr('spec.remap.remotePodCIDR', remap.remotePodCIDR);
    routed = [...pods.filter((c) => familyOf(c) !== familyOf(r)), r];
  }
  const external = remap.remoteExternalCIDR ?? remote.externalCIDR;
  if (external !== undefined) routed.push(cidr(remap.remoteExternalCIDR !== undefined ? 'spec.remap.remoteExternalCIDR' : 'spec.remote.externalCIDR', external));
  return routed;
}

export function remoteCidrs(teps: Iterable<TunnelEndpoint>): RemoteCidrs {
  const set = new Set<string>();
  const problems: RemoteCidrProblem[] = [];
  for (const tep of teps) {
    if (tep.metadata?.deletionTimestamp) continue;
    try {
      for (const c of routedCidrsOf(tep)) set.add(c);
    } catch (e) {
      if (!(e instanceof Bad)) throw e;
      problems.push({ key: objectKey(tep), object: tep, message: e.message });
    }
  }
  return { cidrs: [...set].sort(), problems };
}
