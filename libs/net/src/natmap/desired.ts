import type { Family } from '../ip-address.ts';
import type { NftTableSpec } from '../nftables.ts';
import {
  cidrContainsAddress,
  outermostCidrs,
  parseNatAddress,
  parseNatCidr,
  parseV4,
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

export interface NatMappingResult {
  /** `namespace/name`. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string | undefined;
  readonly generation: number | undefined;
  /** IP family of the mapping (of its externalCIDR); undefined when that CIDR is invalid. */
  readonly family: Family | undefined;
  /** Entries in the spec. */
  readonly entries: number;
  /** External IPs this mapping puts in the map (valid and not held by an older mapping), in spec order. */
  readonly ownedExternalIPs: readonly string[];
  /** Their real IPs (same order). */
  readonly ownedRealIPs: readonly string[];
  /** Entries excluded (sum of the problems' counts). */
  readonly invalid: number;
  /** In spec order. */
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
  if (a.family === 4) return unusableV4(a.v4);
  if (a.v6 === 0n) return 'is the unspecified address';
  if (a.v6 === 1n) return 'is the loopback address';
  if (a.v6 >> 120n === 0xffn) return 'is a multicast address';
  return undefined;
}

function unusableV4(v: number): string | undefined {
  const first = Math.floor(v / 16777216);
  if (v === 0) return 'is the unspecified address';
  if (first === 127) return 'is a loopback address';
  if (first >= 224 && first <= 239) return 'is a multicast address';
  if (v === 0xffffffff) return 'is the broadcast address';
  return undefined;
}

function problem(index: number, e: unknown, reason: NatEntryProblemReason, why: string, heldBy?: string): NatEntryProblem {
  const x = e as { externalIP?: unknown; realIP?: unknown } | null | undefined;
  const externalIP = shown(x?.externalIP);
  const realIP = shown(x?.realIP);
  return { index, externalIP, realIP, reason, message: `entries[${index}] ${externalIP} → ${realIP}: ${why}`, count: 1, ...(heldBy ? { heldBy } : {}) };
}

/** What can be checked within one mapping (everything but duplicates and conflicts). */
interface LocalCheck {
  readonly family: Family | undefined;
  readonly pod: NatCidr | undefined;
  readonly entries: readonly unknown[];
  /** Locally valid entries: index in spec.entries, canonical external and real IP. */
  readonly index: readonly number[];
  readonly ext: readonly string[];
  readonly real: readonly string[];
  readonly problems: readonly NatEntryProblem[];
}

/**
 * Local checks are cached per spec object: the informer hands out the same object until the
 * NatMapping changes, so a change to one mapping does not re-validate the others. Objects from the
 * informer are never modified in place.
 */
const localChecks = new WeakMap<object, LocalCheck>();

function checkLocally(spec: NatMappingInput['spec']): LocalCheck {
  const cached = spec ? localChecks.get(spec) : undefined;
  if (cached) return cached;
  const rawEntries = spec?.entries;
  const entries: readonly unknown[] = Array.isArray(rawEntries) ? rawEntries : [];
  const ext = parseNatCidr(spec?.externalCIDR);
  const pod = parseNatCidr(spec?.podCIDR);
  let whole: string | undefined;
  if (rawEntries !== undefined && !Array.isArray(rawEntries)) whole = 'spec.entries is not a list';
  else if (typeof ext === 'string') whole = `spec.externalCIDR ${ext}`;
  else if (typeof pod === 'string') whole = `spec.podCIDR ${pod}`;
  else if (pod.family !== ext.family) {
    whole = `spec.podCIDR ${pod.text} (IPv${pod.family}) and spec.externalCIDR ${ext.text} (IPv${ext.family}) are of different families`;
  }
  let out: LocalCheck;
  if (whole !== undefined || typeof ext === 'string' || typeof pod === 'string') {
    const count = entries.length;
    out = {
      family: typeof ext === 'string' ? undefined : ext.family,
      pod: undefined,
      entries,
      index: [],
      ext: [],
      real: [],
      problems: [{ index: -1, externalIP: '', realIP: '', reason: 'InvalidMapping', message: `${whole ?? 'invalid mapping'}: none of its ${count} entries is programmed`, count }],
    };
  } else {
    const index: number[] = [];
    const exts: string[] = [];
    const reals: string[] = [];
    const problems: NatEntryProblem[] = [];
    const v4 = ext.family === 4;
    const size = v4 ? 2 ** (32 - ext.prefixLength) : 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as { externalIP?: unknown; realIP?: unknown } | null | undefined;
      const er = e?.externalIP;
      const rr = e?.realIP;
      // IPv4 without allocations: the common case at 10 000 entries.
      if (v4 && typeof er === 'string' && typeof rr === 'string' && !er.includes(':') && !rr.includes(':')) {
        const ev = parseV4(er);
        if (ev < 0) {
          problems.push(problem(i, e, 'InvalidExternalIP', 'externalIP is not a valid IP address'));
          continue;
        }
        const rv = parseV4(rr);
        if (rv < 0) {
          problems.push(problem(i, e, 'InvalidRealIP', 'realIP is not a valid IP address'));
          continue;
        }
        if (ev - (ev % size) !== ext.v4) {
          problems.push(problem(i, e, 'ExternalIPOutsideCIDR', `externalIP is outside externalCIDR ${ext.text}`));
          continue;
        }
        const unusable = unusableV4(rv);
        if (unusable) {
          problems.push(problem(i, e, 'InvalidRealIP', `realIP ${unusable}`));
          continue;
        }
        if (rv - (rv % size) === ext.v4) {
          problems.push(problem(i, e, 'RealIPInsideExternalCIDR', `realIP lies inside externalCIDR ${ext.text}`));
          continue;
        }
        index.push(i);
        exts.push(er);
        reals.push(rr);
        continue;
      }
      const ea = parseNatAddress(er);
      if (!ea) {
        problems.push(problem(i, e, 'InvalidExternalIP', 'externalIP is not a valid IP address'));
        continue;
      }
      const ra = parseNatAddress(rr);
      if (!ra) {
        problems.push(problem(i, e, 'InvalidRealIP', 'realIP is not a valid IP address'));
        continue;
      }
      if (!cidrContainsAddress(ext, ea)) {
        problems.push(problem(i, e, 'ExternalIPOutsideCIDR', `externalIP is outside externalCIDR ${ext.text}`));
        continue;
      }
      if (ra.family !== ea.family) {
        problems.push(problem(i, e, 'FamilyMismatch', `realIP is IPv${ra.family} but externalIP is IPv${ea.family}`));
        continue;
      }
      const unusable = unusableRealIP(ra);
      if (unusable) {
        problems.push(problem(i, e, 'InvalidRealIP', `realIP ${unusable}`));
        continue;
      }
      if (cidrContainsAddress(ext, ra)) {
        problems.push(problem(i, e, 'RealIPInsideExternalCIDR', `realIP lies inside externalCIDR ${ext.text}`));
        continue;
      }
      index.push(i);
      exts.push(ea.text);
      reals.push(ra.text);
    }
    out = { family: ext.family, pod, entries, index, ext: exts, real: reals, problems };
  }
  if (spec) localChecks.set(spec, out);
  return out;
}

/** Computes the desired NAT maps from every NatMapping. Pure (objects are not modified); never throws on bad input. */
export function computeNatState(input: Iterable<NatMappingInput>): NatDesiredState {
  const items: { ts: string; key: string; m: NatMappingInput }[] = [];
  for (const m of input) {
    const ns = m.metadata?.namespace ?? '';
    const name = m.metadata?.name ?? '';
    items.push({ ts: timestampText(m.metadata?.creationTimestamp), key: `${ns}/${name}`, m });
  }
  items.sort(byAge);

  const maps = { 4: new Map<string, string>(), 6: new Map<string, string>() };
  const holders = new Map<string, string>();
  const sourceCidrs: { 4: NatCidr[]; 6: NatCidr[] } = { 4: [], 6: [] };
  const mappings = new Map<string, NatMappingResult>();

  for (const { key, m } of items) {
    const local = checkLocally(m.spec);
    // Owned entries are the locally valid ones minus those held by older mappings (or repeated):
    // the local arrays themselves until the first such entry, copied from there on.
    let ownedExternalIPs: readonly string[] = local.ext;
    let ownedRealIPs: readonly string[] = local.real;
    let ownedE: string[] | undefined;
    let ownedR: string[] | undefined;
    let cross: NatEntryProblem[] | undefined;
    if (local.family !== undefined && local.pod) {
      const map = maps[local.family];
      for (let j = 0; j < local.ext.length; j++) {
        const e = local.ext[j] as string;
        const r = local.real[j] as string;
        const holder = holders.get(e);
        if (holder === undefined) {
          map.set(e, r);
          holders.set(e, key);
          ownedE?.push(e);
          ownedR?.push(r);
          continue;
        }
        if (!ownedE || !ownedR) {
          ownedE = local.ext.slice(0, j);
          ownedR = local.real.slice(0, j);
        }
        const i = local.index[j] as number;
        const entry = local.entries[i];
        cross ??= [];
        if (holder === key) {
          const first = local.index[local.ext.indexOf(e)] as number;
          cross.push(problem(i, entry, 'DuplicateEntry', `externalIP ${e} is already mapped by entries[${first}] of this mapping`));
        } else if (map.get(e) === r) {
          cross.push(problem(i, entry, 'DuplicateAcrossMappings', `the same translation is held by ${holder} (older)`, holder));
        } else {
          cross.push(problem(i, entry, 'ConflictingExternalIP', `conflicts with ${holder} (older), which maps ${e} to ${String(map.get(e))}`, holder));
        }
      }
      if (ownedE && ownedR) {
        ownedExternalIPs = ownedE;
        ownedRealIPs = ownedR;
      }
      if (ownedExternalIPs.length > 0) sourceCidrs[local.family].push(local.pod);
    } else {
      ownedExternalIPs = [];
      ownedRealIPs = [];
    }
    const problems = cross ? [...local.problems, ...cross].sort((a, b) => a.index - b.index) : local.problems;
    mappings.set(key, {
      key,
      namespace: m.metadata?.namespace ?? '',
      name: m.metadata?.name ?? '',
      uid: m.metadata?.uid,
      generation: m.metadata?.generation,
      family: local.family,
      entries: local.entries.length,
      ownedExternalIPs,
      ownedRealIPs,
      invalid: problems.reduce((n, p) => n + p.count, 0),
      problems,
    });
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
  /** The keys of `add` that exist with another real IP (to delete first in a script). */
  readonly replaced: readonly string[];
}

export interface NatSourceChanges {
  readonly add: readonly string[];
  readonly delete: readonly string[];
}

export interface NatStateDiff {
  /** Map elements: external IP → real IP. */
  readonly elements: { readonly 4: NatElementChanges; readonly 6: NatElementChanges };
  /** Source set elements (CIDRs). */
  readonly sources: { readonly 4: NatSourceChanges; readonly 6: NatSourceChanges };
  readonly sourcesChanged: boolean;
  /** Map elements to add or delete (a changed real IP counts once). */
  readonly changedEntries: number;
}

function listDiff(before: readonly string[], after: readonly string[]): NatSourceChanges {
  const b = new Set(before);
  const a = new Set(after);
  return { add: after.filter((x) => !b.has(x)), delete: before.filter((x) => !a.has(x)) };
}

/** What changes from `prev` to `next`, element by element. O(entries), no I/O. */
export function diffNatState(prev: NatDesiredState, next: NatDesiredState): NatStateDiff {
  const changes = () => ({ add: [] as [string, string][], delete: [] as string[], replaced: [] as string[] });
  const elements = { 4: changes(), 6: changes() };
  let changedEntries = 0;
  for (const f of [4, 6] as const) {
    const before = prev.maps[f];
    const after = next.maps[f];
    for (const [k, v] of after) {
      const old = before.get(k);
      if (old !== v) {
        elements[f].add.push([k, v]);
        if (old !== undefined) elements[f].replaced.push(k);
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
  const sources = { 4: listDiff(prev.sources[4], next.sources[4]), 6: listDiff(prev.sources[6], next.sources[6]) };
  const sourcesChanged = [4, 6].some((f) => sources[f as 4 | 6].add.length + sources[f as 4 | 6].delete.length > 0);
  return { elements, sources, sourcesChanged, changedEntries };
}

export function isEmptyNatDiff(d: NatStateDiff): boolean {
  return !d.sourcesChanged && d.changedEntries === 0;
}

const SCRIPT_CHUNK = 4096;

function elementLines(verb: 'add' | 'delete', set: string, items: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < items.length; i += SCRIPT_CHUNK) {
    out.push(`${verb} element ${NAT_MAP_TABLE.family} ${NAT_MAP_TABLE.name} ${set} { ${items.slice(i, i + SCRIPT_CHUNK).join(', ')} }`);
  }
  return out;
}

/**
 * The nft script of `diff` against a table whose structure is {@link natTableSpec}'s: ONE
 * transaction, every delete before every add (a changed real IP is deleted and re-added; a source
 * CIDR replaced by a wider one must be gone before the wider one goes in, as interval sets refuse
 * overlaps). '' when nothing changes. The texts are already canonical, as nft prints them.
 */
export function natElementScript(diff: NatStateDiff): string {
  const deletes: string[] = [];
  const adds: string[] = [];
  for (const f of [4, 6] as const) {
    const names = NAT_MAP_NAMES[f];
    deletes.push(...elementLines('delete', names.map, [...diff.elements[f].delete, ...diff.elements[f].replaced]));
    deletes.push(...elementLines('delete', names.sources, diff.sources[f].delete));
    adds.push(...elementLines('add', names.sources, diff.sources[f].add));
    adds.push(...elementLines('add', names.map, diff.elements[f].add.map(([k, v]) => `${k} : ${v}`)));
  }
  const lines = [...deletes, ...adds];
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/**
 * Entries of `result` that `programmed` (what the kernel holds) translates as the mapping says.
 * `programmed` undefined: nothing is known to be programmed.
 */
export function programmedEntries(result: NatMappingResult, programmed: NatDesiredState | undefined): number {
  if (!programmed || result.family === undefined) return 0;
  const map = programmed.maps[result.family];
  let n = 0;
  for (let i = 0; i < result.ownedExternalIPs.length; i++) if (map.get(result.ownedExternalIPs[i] as string) === result.ownedRealIPs[i]) n++;
  return n;
}
