import { cidrContainsCIDR, cidrsOverlap, formatCIDR, parseCIDR, type IPPrefix } from '@strait/api';

/**
 * Remapped pod CIDRs: how this cluster addresses each peer whose pod CIDR conflicts with ours or with
 * another peer's (as we already address it). Pure and deterministic: the same input gives the same output.
 *
 * Persistence is the TunnelEndpoints themselves: `current` is the remap a peer's TunnelEndpoint already
 * carries (null: it exists without a remap; undefined: no TunnelEndpoint yet). A current choice is kept
 * while it stays valid, so a restart or a new peer never moves an existing peer.
 *
 * Presentations: each peer announces (on its Broker Cluster) the CIDR under which it addresses US; our
 * pods appear under that CIDR on our tunnel to it. Those CIDRs are never handed out here. When two
 * clusters pick overlapping ranges at the same moment, the one with the greater cluster ID moves
 * (presentations announced by lower IDs also bind a kept choice), so the pair converges.
 */

export interface RemapPeer {
  readonly clusterId: string;
  /** The peer's pod CIDRs as the peer uses them. */
  readonly podCidrs: readonly string[];
  /** The remapped CIDR its TunnelEndpoint carries (null: none; undefined: no TunnelEndpoint yet). */
  readonly current?: string | null | undefined;
  /**
   * CIDRs the peer itself uses to address its other peers (its announcement on the Broker). The CIDR we
   * address it by is where its pods appear on our side, and where our replies and its health probes'
   * sources live on its side: it must not overlap them. A kept choice yields to them only when the peer's
   * ID is lower than ours (the same tie rule as presentations), so a simultaneous pick converges.
   */
  readonly views?: readonly string[] | undefined;
}

export interface RemapInput {
  readonly localClusterId: string;
  /** Our own CIDRs (pod, service, external): never used for a peer. */
  readonly reserved: readonly string[];
  /** How peers address us: peer cluster ID → the CIDR it announced for us. */
  readonly presentations: ReadonlyMap<string, string>;
  /** Pool(s) of remapped CIDRs. */
  readonly pool: readonly string[];
  readonly peers: readonly RemapPeer[];
}

export type RemapDecision =
  | { readonly clusterId: string; readonly ok: true; readonly remotePodCIDR: string | undefined; readonly changed: boolean }
  | { readonly clusterId: string; readonly ok: false; readonly reason: string };

function family(c: string): 4 | 6 {
  return parseCIDR(c)!.address.family;
}

function overlapsAny(c: string, list: Iterable<string>): string | undefined {
  for (const x of list) if (cidrsOverlap(c, x)) return x;
  return undefined;
}

/** The first free block of `prefixLength` bits in the pool (in pool order, lowest address first). */
export function allocateBlock(pool: readonly string[], prefixLength: number, fam: number, taken: readonly string[]): string | undefined {
  for (const p of pool) {
    const prefix = parseCIDR(p);
    if (!prefix || prefix.address.family !== fam || prefix.prefixLength > prefixLength) continue;
    const bits = fam === 4 ? 32 : 128;
    const size = 1n << BigInt(bits - prefixLength);
    const base = prefix.address.value & ~((1n << BigInt(bits - prefix.prefixLength)) - 1n);
    const end = base + (1n << BigInt(bits - prefix.prefixLength));
    let v = base;
    while (v < end) {
      const candidate: IPPrefix = { address: { family: fam as 4 | 6, value: v }, prefixLength };
      const text = formatCIDR(candidate);
      const clash = taken.find((t) => cidrsOverlap(t, candidate));
      if (clash === undefined) return text;
      // Jump past the clashing range when it is larger than one block.
      const c = parseCIDR(clash)!;
      const cEnd = (c.address.value & ~((1n << BigInt(bits - c.prefixLength)) - 1n)) + (1n << BigInt(bits - c.prefixLength));
      const next = ((cEnd + size - 1n) / size) * size;
      v = next > v ? next : v + size;
    }
  }
  return undefined;
}

/** Decides the remapped pod CIDR of every peer (see the module comment). Output is sorted by cluster ID. */
export function planRemaps(input: RemapInput): RemapDecision[] {
  const peers = [...input.peers].sort((a, b) => a.clusterId.localeCompare(b.clusterId));
  const poolFamilies = new Set(input.pool.map((p) => parseCIDR(p)?.address.family).filter((f) => f !== undefined));
  const strong = [...input.reserved];
  const all = [...input.reserved];
  for (const [peer, cidr] of [...input.presentations].sort(([a], [b]) => a.localeCompare(b))) {
    if (!parseCIDR(cidr)) continue;
    all.push(cidr);
    if (peer < input.localClusterId) strong.push(cidr);
  }
  /** CIDRs already given to a peer in this plan (as we address it). */
  const assigned: string[] = [];
  const decided = new Map<string, RemapDecision>();
  const later: RemapPeer[] = [];

  // 1. Keep every existing choice that is still valid (stability across restarts and new peers).
  for (const p of peers) {
    if (p.current === undefined) {
      later.push(p);
      continue;
    }
    if (p.current === null) {
      const clash = overlapsAny2(p.podCidrs, [...strong, ...assigned]);
      if (clash === undefined) {
        assigned.push(...p.podCidrs);
        decided.set(p.clusterId, { clusterId: p.clusterId, ok: true, remotePodCIDR: undefined, changed: false });
      } else later.push(p);
      continue;
    }
    const cur = p.current;
    const bindingViews = p.clusterId < input.localClusterId ? validCidrs(p.views) : [];
    const same = p.podCidrs.find((c) => parseCIDR(c) && parseCIDR(cur) && family(c) === family(cur) && parseCIDR(c)!.prefixLength === parseCIDR(cur)!.prefixLength);
    const inPool = input.pool.some((pool) => cidrContainsCIDR(pool, cur));
    const others = p.podCidrs.filter((c) => c !== same);
    if (
      same &&
      inPool &&
      overlapsAny(cur, [...strong, ...assigned, ...bindingViews]) === undefined &&
      overlapsAny2(others, [...strong, ...assigned]) === undefined
    ) {
      assigned.push(cur, ...others);
      decided.set(p.clusterId, { clusterId: p.clusterId, ok: true, remotePodCIDR: cur, changed: false });
    } else later.push(p);
  }

  // 2. New peers and invalidated choices, by cluster ID: the original CIDRs when free, else a block of the pool.
  for (const p of later) {
    const taken = [...all, ...assigned];
    const clashing = p.podCidrs.filter((c) => overlapsAny(c, taken) !== undefined);
    const wasRemapped = typeof p.current === 'string';
    if (clashing.length === 0) {
      assigned.push(...p.podCidrs);
      decided.set(p.clusterId, { clusterId: p.clusterId, ok: true, remotePodCIDR: undefined, changed: wasRemapped });
      continue;
    }
    if (clashing.length > 1) {
      decided.set(p.clusterId, { clusterId: p.clusterId, ok: false, reason: `pod CIDRs ${clashing.join(', ')} conflict and only one can be remapped` });
      continue;
    }
    const conflict = clashing[0]!;
    const f = family(conflict);
    if (!poolFamilies.has(f)) {
      decided.set(p.clusterId, {
        clusterId: p.clusterId,
        ok: false,
        reason: `pod CIDR ${conflict} conflicts with ${overlapsAny(conflict, taken)} and the remap pool has no IPv${f} range`,
      });
      continue;
    }
    const block = allocateBlock(input.pool, parseCIDR(conflict)!.prefixLength, f, [...taken, ...validCidrs(p.views)]);
    if (!block) {
      decided.set(p.clusterId, {
        clusterId: p.clusterId,
        ok: false,
        reason: `pod CIDR ${conflict} conflicts with ${overlapsAny(conflict, taken)} and the remap pool ${input.pool.join(', ')} has no free /${parseCIDR(conflict)!.prefixLength}`,
      });
      continue;
    }
    assigned.push(block, ...p.podCidrs.filter((c) => c !== conflict));
    decided.set(p.clusterId, { clusterId: p.clusterId, ok: true, remotePodCIDR: block, changed: p.current !== block });
  }
  return peers.map((p) => decided.get(p.clusterId)!);
}

function validCidrs(list: readonly string[] | undefined): string[] {
  return (list ?? []).filter((c) => parseCIDR(c) !== undefined);
}

function overlapsAny2(list: readonly string[], taken: readonly string[]): string | undefined {
  for (const c of list) {
    const x = overlapsAny(c, taken);
    if (x !== undefined) return x;
  }
  return undefined;
}
