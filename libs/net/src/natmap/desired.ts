import type { Family } from '../ip-address.ts';
import type { NftTableSpec } from '../nftables.ts';
import {
  cidrContainsAddress,
  outermostCidrs,
  parseNatAddress,
  parseNatCidr,
  type NatAddress,
  type NatCidr,
} from './addresses.ts';

/**
 * Desired state of the NAT maps of one gateway node, computed from every NatMapping of the cluster:
 * pure data, no I/O. The natmapping-operator applies it inside the gateway network namespace.
 *
 * The nftables table `inet strait_natmap` (owned by the natmapping-operator alone):
 *
 *   set src4 { type ipv4_addr ; flags interval ; }       remote pod CIDRs (sources allowed)
 *   map ext4 { type ipv4_addr : ipv4_addr ; }            external IP → real IP
 *   set src6 / map ext6                                  the same for IPv6
 *   chain prerouting { type nat hook prerouting priority dstnat ;
 *     ip saddr @src4 ip daddr @ext4 dnat ip to ip daddr map @ext4
 *     ip6 saddr @src6 ip6 daddr @ext6 dnat ip6 to ip6 daddr map @ext6 }
 *
 * One map per family holds the entries of every NatMapping, so one changed entry is one element
 * deleted and one added, whatever the number of entries; the chain never changes. Both families
 * are always declared (an empty map costs nothing), so the table's structure is fixed and a new
 * mapping only adds elements.
 *
 * Sources: the union of the podCIDRs of the mappings that have at least one programmed entry.
 * An externalIP is unique across all mappings (see below), so a remote cluster can only reach the
 * translations of another cluster's mapping if that other cluster's externalCIDR is routed to it;
 * scoping each entry to its own podCIDR would need a concatenated interval map (saddr . daddr),
 * which nft cannot update element by element as cheaply.
 *
 * Validation, per entry: an entry that cannot be programmed is excluded and reported, the others
 * are programmed.
 *  - externalIP / realIP not a valid IP, realIP unspecified, loopback, multicast or broadcast;
 *  - externalIP outside the mapping's externalCIDR; realIP inside it (it would be translated again
 *    by the remote side); realIP of another family than externalIP;
 *  - the same externalIP twice in one mapping (the first wins);
 *  - the same externalIP in two mappings: the OLDER mapping (creationTimestamp, then namespace/name)
 *    keeps it, so a new mapping can never take traffic away from an existing one; the newer
 *    mapping's entry is reported as a duplicate (same realIP) or a conflict (another realIP).
 *    When the older mapping goes, the newer one's entry takes over at the next computation.
 * Per mapping: an invalid podCIDR or externalCIDR, or the two of different IP families, excludes
 * every entry of that mapping.
 */

export const NAT_MAP_TABLE = { family: 'inet', name: 'strait_natmap' } as const;
export const NAT_MAP_CHAIN = 'prerouting';
export const NAT_MAP_NAMES = {
  4: { map: 'ext4', sources: 'src4' },
  6: { map: 'ext6', sources: 'src6' },
} as const;

/** The prerouting rules; fixed, whatever the mappings. */
export const NAT_MAP_RULES = [
  `ip saddr @${NAT_MAP_NAMES[4].sources} ip daddr @${NAT_MAP_NAMES[4].map} dnat ip to ip daddr map @${NAT_MAP_NAMES[4].map}`,
  `ip6 saddr @${NAT_MAP_NAMES[6].sources} ip6 daddr @${NAT_MAP_NAMES[6].map} dnat ip6 to ip6 daddr map @${NAT_MAP_NAMES[6].map}`,
] as const;

/** The shape of a NatMapping this module reads (structurally compatible with @strait/api's NatMapping). */
export interface NatMappingInput {
  readonly metadata?: {
    readonly name?: string | undefined;
    readonly namespace?: string | undefined;
    readonly uid?: string | undefined;
    readonly generation?: number | undefined;
    readonly creationTimestamp?: unknown;
  } | undefined;
  readonly spec?: {
    readonly podCIDR?: unknown;
    readonly externalCIDR?: unknown;
    readonly entries?: unknown;
  } | undefined;
}

export const NAT_ENTRY_PROBLEMS = [
  'InvalidMapping',
  'InvalidExternalIP',
  'InvalidRealIP',
  'ExternalIPOutsideCIDR',
  'RealIPInsideExternalCIDR',
  'FamilyMismatch',
  'DuplicateEntry',
  'DuplicateAcrossMappings',
  'ConflictingExternalIP',
] as const;
export type NatEntryProblemReason = (typeof NAT_ENTRY_PROBLEMS)[number];

export interface NatEntryProblem {
  /** Index in spec.entries; -1 for a problem of the whole mapping. */
  readonly index: number;
  /** As written (truncated to 64 characters). */
  readonly externalIP: string;
  readonly realIP: string;
  readonly reason: NatEntryProblemReason;
  /** Names the entry: `entries[3] 10.32.0.9 → 192.168.1.2: conflicts with ns/other (older), which maps it to 192.168.1.7`. */
  readonly message: string;
  /** Entries excluded by this problem (the whole mapping's count for InvalidMapping, else 1). */
  readonly count: number;
  /** The mapping (`namespace/name`) holding the externalIP, for duplicates and conflicts. */
  readonly heldBy?: string;
}

/** One entry a mapping contributes to a map. */
export interface NatOwnedEntry {
  readonly family: Family;
  readonly externalIP: string;
  readonly realIP: string;
}

export interface NatMappingResult {
  /** `namespace/name`. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string | undefined;
  readonly generation: number | undefined;
  /** Entries in the spec. */
  readonly entries: number;
  /** Entries this mapping puts in the maps (valid and not held by an older mapping). */
  readonly owned: readonly NatOwnedEntry[];
  /** Entries excluded (sum of the problems' counts). */
  readonly invalid: number;
  readonly problems: readonly NatEntryProblem[];
}

export interface NatDesiredState {
  /** external IP → real IP, canonical text. */
  readonly maps: { readonly 4: ReadonlyMap<string, string>; readonly 6: ReadonlyMap<string, string> };
  /** Canonical CIDRs (non-overlapping), sorted. */
  readonly sources: { readonly 4: readonly string[]; readonly 6: readonly string[] };
  /** Which mapping holds each external IP (`namespace/name`). */
  readonly holders: ReadonlyMap<string, string>;
  /** Per mapping, by `namespace/name`, oldest first. */
  readonly mappings: ReadonlyMap<string, NatMappingResult>;
}

const MAX_SHOWN = 64;

function shown(v: unknown): string {
  const s = typeof v === 'string' ? v : v === undefined ? '(missing)' : JSON.stringify(v) ?? String(v);
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}...` : s;
}

function timestampText(v: unknown): string {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '\uffff' : v.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return typeof v === 'string' && v !== '' ? v : '\uffff'; // unknown age sorts last: it never wins
}

/** Age order: older first (creationTimestamp), then namespace/name. Ties never depend on input order. */
function byAge(a: { ts: string; key: string }, b: { ts: string; key: string }): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Why an address cannot be a translation target, or undefined. */
function unusableRealIP(a: NatAddress): string | undefined {
  if (a.family === 4) {
    const first = Math.floor(a.v4 / 16777216);
    if (a.v4 === 0) return 'is the unspecified address';
    if (first === 127) return 'is a loopback address';
    if (first >= 224 && first <= 239) return 'is a multicast address';
    if (a.v4 === 0xffffffff) return 'is the broadcast address';
    return undefined;
  }
  if (a.v6 === 0n) return 'is the unspecified address';
  if (a.v6 === 1n) return 'is the loopback address';
  if (a.v6 >> 120n === 0xffn) return 'is a multicast address';
  return undefined;
}

interface Claim {
  readonly real: string;
  readonly key: string;
}

/** Computes the desired NAT maps from every NatMapping. Pure; never throws on bad input. */
export function computeNatState(input: Iterable<NatMappingInput>): NatDesiredState {
  const items: { ts: string; key: string; m: NatMappingInput }[] = [];
  for (const m of input) {
    const ns = m.metadata?.namespace ?? '';
    const name = m.metadata?.name ?? '';
    items.push({ ts: timestampText(m.metadata?.creationTimestamp), key: `${ns}/${name}`, m });
  }
  items.sort(byAge);

  const claims: { 4: Map<string, Claim>; 6: Map<string, Claim> } = { 4: new Map(), 6: new Map() };
  const sourceCidrs: { 4: NatCidr[]; 6: NatCidr[] } = { 4: [], 6: [] };
  const mappings = new Map<string, NatMappingResult>();

  for (const { key, m } of items) {
    const spec = m.spec;
    const problems: NatEntryProblem[] = [];
    const owned: NatOwnedEntry[] = [];
    const rawEntries = spec?.entries;
    const entries: readonly unknown[] = Array.isArray(rawEntries) ? rawEntries : [];
    let invalid = 0;

    const ext = parseNatCidr(spec?.externalCIDR);
    const pod = parseNatCidr(spec?.podCIDR);
    let whole: string | undefined;
    if (rawEntries !== undefined && !Array.isArray(rawEntries)) whole = 'spec.entries is not a list';
    else if (typeof ext === 'string') whole = `spec.externalCIDR ${ext}`;
    else if (typeof pod === 'string') whole = `spec.podCIDR ${pod}`;
    else if (pod.family !== ext.family) {
      whole = `spec.podCIDR ${pod.text} (IPv${pod.family}) and spec.externalCIDR ${ext.text} (IPv${ext.family}) are of different families`;
    }

    if (whole !== undefined || typeof ext === 'string' || typeof pod === 'string') {
      const count = entries.length;
      problems.push({
        index: -1,
        externalIP: '',
        realIP: '',
        reason: 'InvalidMapping',
        message: `${whole ?? 'invalid mapping'}: none of its ${count} entries is programmed`,
        count,
      });
      invalid = count;
    } else {
      const family = ext.family;
      const claimed = claims[family];
      const seen = new Map<string, number>();
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i] as { externalIP?: unknown; realIP?: unknown } | null | undefined;
        const extRaw = e?.externalIP;
        const realRaw = e?.realIP;
        const ei = shown(extRaw);
        const ri = shown(realRaw);
        const head = `entries[${i}] ${ei} → ${ri}`;
        const bad = (reason: NatEntryProblemReason, why: string, heldBy?: string): void => {
          problems.push({ index: i, externalIP: ei, realIP: ri, reason, message: `${head}: ${why}`, count: 1, ...(heldBy ? { heldBy } : {}) });
          invalid++;
        };
        const ea = parseNatAddress(extRaw);
        if (!ea) {
          bad('InvalidExternalIP', 'externalIP is not a valid IP address');
          continue;
        }
        const ra = parseNatAddress(realRaw);
        if (!ra) {
          bad('InvalidRealIP', 'realIP is not a valid IP address');
          continue;
        }
        if (!cidrContainsAddress(ext, ea)) {
          bad('ExternalIPOutsideCIDR', `externalIP is outside externalCIDR ${ext.text}`);
          continue;
        }
        if (ra.family !== ea.family) {
          bad('FamilyMismatch', `realIP is IPv${ra.family} but externalIP is IPv${ea.family}`);
          continue;
        }
        const unusable = unusableRealIP(ra);
        if (unusable) {
          bad('InvalidRealIP', `realIP ${unusable}`);
          continue;
        }
        if (cidrContainsAddress(ext, ra)) {
          bad('RealIPInsideExternalCIDR', `realIP lies inside externalCIDR ${ext.text}`);
          continue;
        }
        const first = seen.get(ea.text);
        if (first !== undefined) {
          bad('DuplicateEntry', `externalIP ${ea.text} is already mapped by entries[${first}] of this mapping`);
          continue;
        }
        seen.set(ea.text, i);
        const holder = claimed.get(ea.text);
        if (holder) {
          if (holder.real === ra.text) {
            bad('DuplicateAcrossMappings', `the same translation is held by ${holder.key} (older)`, holder.key);
          } else {
            bad('ConflictingExternalIP', `conflicts with ${holder.key} (older), which maps ${ea.text} to ${holder.real}`, holder.key);
          }
          continue;
        }
        claimed.set(ea.text, { real: ra.text, key });
        owned.push({ family, externalIP: ea.text, realIP: ra.text });
      }
      if (owned.length > 0) sourceCidrs[family].push(pod);
    }

    mappings.set(key, {
      key,
      namespace: m.metadata?.namespace ?? '',
      name: m.metadata?.name ?? '',
      uid: m.metadata?.uid,
      generation: m.metadata?.generation,
      entries: entries.length,
      owned,
      invalid,
      problems,
    });
  }

  const maps = { 4: new Map<string, string>(), 6: new Map<string, string>() };
  const holders = new Map<string, string>();
  for (const f of [4, 6] as const) {
    for (const [ext, c] of claims[f]) {
      maps[f].set(ext, c.real);
      holders.set(ext, c.key);
    }
  }
  return {
    maps,
    sources: { 4: outermostCidrs(sourceCidrs[4]).map((c) => c.text), 6: outermostCidrs(sourceCidrs[6]).map((c) => c.text) },
    holders,
    mappings,
  };
}

/** The whole nftables table for `state` (for a full apply; element changes use {@link diffNatState}). */
export function natTableSpec(state: NatDesiredState): NftTableSpec {
  return {
    family: NAT_MAP_TABLE.family,
    name: NAT_MAP_TABLE.name,
    chains: [{ name: NAT_MAP_CHAIN, type: 'nat', hook: 'prerouting', priority: 'dstnat', rules: [...NAT_MAP_RULES] }],
    sets: [
      { name: NAT_MAP_NAMES[4].sources, type: 'ipv4_addr', flags: ['interval'], elements: state.sources[4] },
      { name: NAT_MAP_NAMES[6].sources, type: 'ipv6_addr', flags: ['interval'], elements: state.sources[6] },
    ],
    maps: [
      { name: NAT_MAP_NAMES[4].map, type: 'ipv4_addr', valueType: 'ipv4_addr', elements: state.maps[4] },
      { name: NAT_MAP_NAMES[6].map, type: 'ipv6_addr', valueType: 'ipv6_addr', elements: state.maps[6] },
    ],
  };
}

/** An empty desired state (no mappings). */
export function emptyNatState(): NatDesiredState {
  return computeNatState([]);
}

export interface NatElementChanges {
  /** `[externalIP, realIP]`: new keys, or keys whose real IP changed (the port deletes and re-adds them). */
  readonly add: readonly (readonly [string, string])[];
  /** External IPs that go. */
  readonly delete: readonly string[];
}

export interface NatStateDiff {
  /** The source sets differ: apply the table as a whole (one atomic transaction). */
  readonly sourcesChanged: boolean;
  readonly elements: { readonly 4: NatElementChanges; readonly 6: NatElementChanges };
  /** Map elements to add or delete (a changed real IP counts once). */
  readonly changedEntries: number;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** What changes from `prev` to `next`, element by element. O(entries), no I/O. */
export function diffNatState(prev: NatDesiredState, next: NatDesiredState): NatStateDiff {
  const elements = { 4: { add: [] as [string, string][], delete: [] as string[] }, 6: { add: [] as [string, string][], delete: [] as string[] } };
  let changedEntries = 0;
  for (const f of [4, 6] as const) {
    const before = prev.maps[f];
    const after = next.maps[f];
    for (const [k, v] of after) {
      if (before.get(k) !== v) {
        elements[f].add.push([k, v]);
        changedEntries++;
      }
    }
    for (const k of before.keys()) {
      if (!after.has(k)) {
        elements[f].delete.push(k);
        changedEntries++;
      }
    }
  }
  return {
    sourcesChanged: !sameList(prev.sources[4], next.sources[4]) || !sameList(prev.sources[6], next.sources[6]),
    elements,
    changedEntries,
  };
}

export function isEmptyNatDiff(d: NatStateDiff): boolean {
  return !d.sourcesChanged && d.changedEntries === 0;
}

/**
 * Entries of `result` that `programmed` (what the kernel holds) translates as the mapping says.
 * `programmed` undefined: nothing is known to be programmed.
 */
export function programmedEntries(result: NatMappingResult, programmed: NatDesiredState | undefined): number {
  if (!programmed) return 0;
  let n = 0;
  for (const e of result.owned) if (programmed.maps[e.family].get(e.externalIP) === e.realIP) n++;
  return n;
}
