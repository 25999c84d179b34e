import type { Endpoint, Gateway } from '@strait/api';

/**
 * Which node is the active gateway, from what route-agent watches (pure):
 *  1. the gateway Lease (tunnel-operator's `--lease-name`): its holder is the active replica. The
 *     holder is a pod name; its node comes from that replica's Gateway object (`spec.node`), or from
 *     a NATS leader hint naming the same holder, or — when a Node of that name exists — the holder
 *     itself (replicas identified by node name);
 *  2. without a Lease holder: the cluster's Endpoint (written by the leader), `spec.hostname`.
 * The node's address is its Node object's InternalIP (not the Endpoint's privateIP, which is the
 * address remote clusters reach and need not be reachable from the other nodes).
 */

export interface LeaseView {
  readonly holder: string | undefined;
  /** `spec.leaseTransitions`. */
  readonly transitions: number | undefined;
}

export interface LeaderHint {
  readonly holder: string;
  readonly node: string;
}

export interface GatewayInputs {
  readonly lease: LeaseView | undefined;
  /** Gateway objects of this cluster (one per tunnel-operator replica). */
  readonly gateways: Iterable<Gateway>;
  /** The cluster's Endpoint(s) in Strait's namespace. */
  readonly endpoints: Iterable<Endpoint>;
  readonly clusterId: string;
  /** The last NATS leader hint (already confirmed against the Lease by the caller, or not: it is checked here). */
  readonly hint: LeaderHint | undefined;
  /** Node name → InternalIP. */
  readonly nodeIps: ReadonlyMap<string, string>;
}

export type ActiveGateway =
  | { readonly kind: 'resolved'; readonly node: string; readonly ip: string; readonly holder: string | undefined; readonly source: 'lease' | 'endpoint' }
  | { readonly kind: 'unresolved'; readonly reason: string; readonly holder: string | undefined; readonly node: string | undefined }
  | { readonly kind: 'none' };

export function activeGateway(i: GatewayInputs): ActiveGateway {
  const holder = i.lease?.holder || undefined;
  let node: string | undefined;
  let source: 'lease' | 'endpoint' = 'lease';
  if (holder) {
    for (const g of i.gateways) {
      if (g.metadata?.name === holder) node = g.spec?.node ?? g.status?.node;
    }
    if (!node && i.hint?.holder === holder) node = i.hint.node;
    if (!node && i.nodeIps.has(holder)) node = holder;
    if (!node) return { kind: 'unresolved', reason: `the Lease holder ${holder} has no Gateway object naming its node`, holder, node: undefined };
  } else {
    for (const e of i.endpoints) {
      if (e.spec?.clusterID === i.clusterId && e.spec.hostname) node = e.spec.hostname;
    }
    if (!node) return { kind: 'none' };
    source = 'endpoint';
  }
  const ip = i.nodeIps.get(node);
  if (!ip) return { kind: 'unresolved', reason: `the active gateway node ${node} has no InternalIP (no Node object or no IPv4 InternalIP)`, holder, node };
  return { kind: 'resolved', node, ip, holder, source };
}

/** A Node's IPv4 InternalIP. */
export function internalIp(node: { status?: { addresses?: readonly { type?: string; address?: string }[] } } | undefined): string | undefined {
  return node?.status?.addresses?.find((a) => a.type === 'InternalIP' && typeof a.address === 'string' && /^\d+\.\d+\.\d+\.\d+$/.test(a.address))?.address;
}
