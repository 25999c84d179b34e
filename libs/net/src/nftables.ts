import { createHash } from 'node:crypto';
import type { Netns } from './apply-report.ts';
import { NetCommandError, defaultCommandRunner, parseJsonOutput, type CommandRunner } from './exec.ts';
import {
  NFT_DATA_TYPES,
  NftElementFormatError,
  canonicalKey,
  canonicalScalar,
  checkNftName,
  keyFromJson,
  scalarFromJson,
  type NftDataType,
  type NftKey,
  type NftScalar,
  type NftValueType,
} from './nft-elements.ts';
import { assertStraitTableName, isStraitTableName } from './ownership.ts';
import { NetSpecError, OutputReader } from './validate.ts';

/**
 * nftables: one Strait-owned table per purpose (`inet strait` for NAT, `inet strait_mss` for the
 * MSS clamp). The table name is the ownership marker: Strait never reads into, changes or deletes
 * any other table.
 *
 * Desired state is data ({@link NftTableSpec}); {@link NftTables.apply} reads the table
 * (`nft -j list table`), diffs, and writes ONE `nft -f -` file, which the kernel commits as one
 * transaction (all or nothing). The file holds only the difference:
 *  - chains/sets/maps are declared only when missing or changed (a hook/priority/type change
 *    deletes and re-adds the chain; a set whose type or flags changed is re-created);
 *  - a chain's rules are rewritten (`flush chain` + `add rule`s) only when its rule list differs.
 *    Each rule carries `comment "strait:<hash of its text>"`, so comparing rules does not depend on
 *    how nft re-prints a statement;
 *  - set and map elements are diffed: only `delete element` / `add element` for what changed, so
 *    changing one element among 10 000 is one delete and one add (and a new key is one add).
 * Re-applying the same desired state writes nothing (and so leaves every handle as it was).
 */

export const NFT_FAMILIES = ['inet', 'ip', 'ip6', 'bridge', 'netdev', 'arp'] as const;
export type NftFamily = (typeof NFT_FAMILIES)[number];

export const NFT_HOOKS = ['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress', 'egress'] as const;
export type NftHook = (typeof NFT_HOOKS)[number];
export type NftChainType = 'filter' | 'nat' | 'route';

const NAMED_PRIORITIES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
const BRIDGE_PRIORITIES: Record<string, number> = { dstnat: -300, filter: -200, out: 100, srcnat: 300 };

export interface NftChainSpec {
  readonly name: string;
  /** Base chains: type, hook and priority. Omit all three for a regular chain (jump target). */
  readonly type?: NftChainType;
  readonly hook?: NftHook;
  /** A number or a standard name (`dstnat`, `srcnat`, `mangle`, `filter`, `raw`, `security`). */
  readonly priority?: number | string;
  readonly policy?: 'accept' | 'drop';
  /** netdev ingress/egress device. */
  readonly device?: string;
  /** Statements in nft syntax, one rule each (no `comment`: Strait uses it to fingerprint rules). */
  readonly rules: readonly string[];
}

export type NftSetFlag = 'interval' | 'constant' | 'timeout' | 'dynamic';

export interface NftSetSpec {
  readonly name: string;
  /** A data type, or the parts of a concatenation. */
  readonly type: NftDataType | readonly NftDataType[];
  readonly flags?: readonly NftSetFlag[];
  readonly elements: Iterable<NftKey>;
}

export interface NftMapSpec {
  readonly name: string;
  readonly type: NftDataType | readonly NftDataType[];
  readonly valueType: NftValueType;
  /** Values are prefixes/ranges (`type ipv4_addr : interval ipv4_addr`, for prefix NAT). */
  readonly intervalValues?: boolean;
  readonly flags?: readonly NftSetFlag[];
  /** `[key, value]` pairs or a Map. */
  readonly elements: Iterable<readonly [NftKey, NftScalar]>;
}

export interface NftTableSpec {
  readonly family: NftFamily;
  /** `strait` or `strait_<purpose>`. */
  readonly name: string;
  readonly chains: readonly NftChainSpec[];
  readonly sets?: readonly NftSetSpec[];
  readonly maps?: readonly NftMapSpec[];
}

// ---------------------------------------------------------------------------------------------
// Normalized model (shared by desired state and what is read from the kernel)

export interface NftChain {
  readonly name: string;
  readonly handle: number | undefined;
  readonly type: NftChainType | undefined;
  readonly hook: NftHook | undefined;
  readonly priority: number | undefined;
  readonly policy: 'accept' | 'drop' | undefined;
  readonly device: string | undefined;
  /** Fingerprint comments (`strait:<hash>`) in order; undefined entries = rules without one. */
  readonly ruleTags: readonly (string | undefined)[];
  readonly ruleHandles: readonly number[];
  /** Rule texts (desired state only). */
  readonly rules: readonly string[];
}

export interface NftSet {
  readonly name: string;
  readonly isMap: boolean;
  readonly handle: number | undefined;
  readonly keyTypes: readonly NftDataType[];
  readonly valueType: NftValueType | undefined;
  readonly intervalValues: boolean;
  readonly flags: readonly string[];
  /** canonical key → canonical value ('' for sets) */
  readonly elements: ReadonlyMap<string, string>;
}

export interface NftTable {
  readonly family: NftFamily;
  readonly name: string;
  readonly handle: number | undefined;
  readonly chains: ReadonlyMap<string, NftChain>;
  readonly sets: ReadonlyMap<string, NftSet>;
}

export interface NftApplyReport {
  /** Whether a transaction was written. */
  readonly changed: boolean;
  readonly writes: number;
  /** The nft script that was committed ('' when nothing changed). */
  readonly script: string;
  readonly chainsRewritten: number;
  readonly elementsAdded: number;
  readonly elementsRemoved: number;
}

export interface NftTableRef {
  readonly family: NftFamily;
  readonly name: string;
}

export interface NftPort {
  /** Every table in the namespace (names only; Strait's are those with {@link isStraitTableName}). */
  listTables(netns: Netns): Promise<NftTableRef[]>;
  /** A Strait table as it is in the kernel, or undefined when absent. */
  read(netns: Netns, family: NftFamily, name: string): Promise<NftTable | undefined>;
  /** Makes the table exactly `desired` in one transaction (nothing when it already is). */
  apply(netns: Netns, desired: NftTableSpec, opts?: NftApplyOptions): Promise<NftApplyReport>;
  /**
   * Changes some elements of one set or map, without restating the others: `add` entries are
   * set (a map key whose value differs is deleted and re-added), `delete` keys are removed when
   * present. One transaction of O(changed elements). The table must have been applied before.
   */
  updateElements(netns: Netns, ref: NftSetRef, changes: NftElementChanges): Promise<NftApplyReport>;
  /** Deletes one of Strait's tables (refuses other names); no-op when absent. */
  deleteTable(netns: Netns, family: NftFamily, name: string): Promise<NftApplyReport>;
}

export interface NftApplyOptions {
  /**
   * Diff against the state this port last committed for the table instead of reading the table
   * back (`nft -j list table` costs O(table size)). When the transaction fails because the
   * kernel differs from that memory, the memory is dropped and the apply is retried once after a
   * fresh read. Changes made behind Strait's back are repaired by the next apply without it.
   */
  readonly trustLastApplied?: boolean;
}

export interface NftSetRef {
  readonly family: NftFamily;
  readonly table: string;
  /** Set or map name. */
  readonly name: string;
}

export interface NftElementChanges {
  /** Set keys, or `[key, value]` pairs for a map. */
  readonly add?: Iterable<NftKey | readonly [NftKey, NftScalar]>;
  readonly delete?: Iterable<NftKey>;
}

/** Plans an element update against a known table state; pure. */
export function planElementUpdate(
  table: NftTable,
  ref: NftSetRef,
  changes: NftElementChanges,
): { script: string; added: number; removed: number; next: NftTable } {
  const set = table.sets.get(ref.name);
  if (!set) throw new NetSpecError('name', `${ref.family} ${ref.table} has no set or map ${JSON.stringify(ref.name)}`);
  const interval = set.flags.includes('interval');
  const f = `${set.isMap ? 'map' : 'set'} ${ref.name}`;
  const want = new Map<string, string>();
  let i = 0;
  for (const e of changes.add ?? []) {
    if (set.isMap) {
      if (!Array.isArray(e) || e.length !== 2) throw new NetSpecError(`${f}.add[${i}]`, 'must be a [key, value] pair');
      want.set(canonicalKey(`${f}.add[${i}][0]`, set.keyTypes, e[0] as NftKey, interval), canonicalScalar(`${f}.add[${i}][1]`, set.valueType as NftValueType, e[1] as NftScalar, set.intervalValues));
    } else {
      want.set(canonicalKey(`${f}.add[${i}]`, set.keyTypes, e as NftKey, interval), '');
    }
    i++;
  }
  const gone = new Set<string>();
  i = 0;
  for (const k of changes.delete ?? []) {
    const key = canonicalKey(`${f}.delete[${i++}]`, set.keyTypes, k, interval);
    if (want.has(key)) throw new NetSpecError(`${f}.delete`, `${key} is both added and deleted`);
    gone.add(key);
  }
  const del: string[] = [];
  const add: string[] = [];
  const elements = new Map(set.elements);
  for (const k of gone) {
    if (elements.delete(k)) del.push(k);
  }
  for (const [k, v] of want) {
    const cur = elements.get(k);
    if (cur === v) continue;
    if (cur !== undefined) del.push(k);
    add.push(set.isMap ? `${k} : ${v}` : k);
    elements.set(k, v);
  }
  const lines = [...elementLines('delete', table, set, del), ...elementLines('add', table, set, add)];
  const sets = new Map(table.sets);
  sets.set(set.name, { ...set, elements });
  return { script: lines.length ? `${lines.join('\n')}\n` : '', added: add.length, removed: del.length, next: { ...table, sets } };
}

const RESERVED_WORDS = new Set(['map', 'set', 'snat', 'dnat', 'table', 'chain', 'rule', 'element', 'flush', 'delete', 'add', 'type', 'hook', 'policy', 'priority', 'counter', 'meter', 'flowtable', 'limit', 'quota', 'ct', 'meta', 'ip', 'ip6', 'inet', 'tcp', 'udp', 'accept', 'drop', 'return', 'jump', 'goto', 'continue', 'masquerade', 'redirect', 'reject', 'log', 'queue', 'fwd', 'dup', 'notrack', 'synproxy', 'secmark']);

function checkObjectName(field: string, name: unknown): string {
  const n = checkNftName(field, name);
  if (RESERVED_WORDS.has(n.toLowerCase())) {
    throw new NetSpecError(field, `${JSON.stringify(n)} is an nft keyword; choose another name (e.g. with "_")`);
  }
  return n;
}

/** `strait:` + 16 hex digits of sha256(rule text). */
export function ruleTag(rule: string): string {
  return `strait:${createHash('sha256').update(rule).digest('hex').slice(0, 16)}`;
}

function resolvePriority(field: string, family: NftFamily, p: number | string): number {
  if (typeof p === 'number') {
    if (!Number.isInteger(p) || Math.abs(p) > 0x7fffffff) throw new NetSpecError(field, `${p} is not an integer priority`);
    return p;
  }
  const table = family === 'bridge' ? BRIDGE_PRIORITIES : NAMED_PRIORITIES;
  const m = /^([a-z]+)\s*(?:([+-])\s*(\d+))?$/.exec(p.trim());
  const base = m?.[1] !== undefined ? table[m[1]] : undefined;
  if (!m || base === undefined) {
    throw new NetSpecError(field, `${JSON.stringify(p)} is not a priority (a number or ${Object.keys(table).join(', ')})`);
  }
  const off = m[3] === undefined ? 0 : Number(m[3]) * (m[2] === '-' ? -1 : 1);
  return base + off;
}

function checkRule(field: string, rule: unknown): string {
  if (typeof rule !== 'string' || rule.trim() === '') throw new NetSpecError(field, 'must be a non-empty nft statement');
  if (/[\n\r;#]/.test(rule)) throw new NetSpecError(field, 'must be one statement on one line (no ";", "#" or newline)');
  if (/\bcomment\b/.test(rule)) throw new NetSpecError(field, 'must not carry a comment (Strait tags each rule with its own)');
  return rule.trim();
}

const SET_FLAGS: readonly string[] = ['interval', 'constant', 'timeout', 'dynamic'];

function normalizeSetLike(
  field: string,
  s: { name: string; type: NftDataType | readonly NftDataType[]; flags?: readonly NftSetFlag[] | undefined },
): { name: string; keyTypes: NftDataType[]; flags: string[] } {
  const name = checkObjectName(`${field}.name`, s.name);
  const keyTypes = (Array.isArray(s.type) ? [...(s.type as readonly NftDataType[])] : [s.type as NftDataType]).map((t, i) => {
    if (!NFT_DATA_TYPES.includes(t)) throw new NetSpecError(`${field}.type${Array.isArray(s.type) ? `[${i}]` : ''}`, `${JSON.stringify(t)} is not one of ${NFT_DATA_TYPES.join(', ')}`);
    return t;
  });
  if (keyTypes.length === 0) throw new NetSpecError(`${field}.type`, 'is empty');
  const flags = [...new Set(s.flags ?? [])].sort();
  for (const f of flags) if (!SET_FLAGS.includes(f)) throw new NetSpecError(`${field}.flags`, `${JSON.stringify(f)} is not one of ${SET_FLAGS.join(', ')}`);
  return { name, keyTypes, flags };
}

/** Validates desired state and turns it into the normalized model (errors name the field). */
export function normalizeTable(spec: NftTableSpec): NftTable {
  if (typeof spec !== 'object' || spec === null) throw new NetSpecError('table', 'must be an object');
  if (!NFT_FAMILIES.includes(spec.family)) throw new NetSpecError('table.family', `${JSON.stringify(spec.family)} is not one of ${NFT_FAMILIES.join(', ')}`);
  assertStraitTableName(checkNftName('table.name', spec.name));
  const chains = new Map<string, NftChain>();
  (spec.chains ?? []).forEach((c, i) => {
    const f = `table.chains[${i}]`;
    const name = checkObjectName(`${f}.name`, c.name);
    if (chains.has(name)) throw new NetSpecError(`${f}.name`, `chain ${name} is declared twice`);
    const base = c.type !== undefined || c.hook !== undefined || c.priority !== undefined;
    if (base && (c.type === undefined || c.hook === undefined || c.priority === undefined)) {
      throw new NetSpecError(f, 'a base chain needs type, hook and priority');
    }
    if (c.type !== undefined && !['filter', 'nat', 'route'].includes(c.type)) throw new NetSpecError(`${f}.type`, `${JSON.stringify(c.type)} is not filter, nat or route`);
    if (c.hook !== undefined && !NFT_HOOKS.includes(c.hook)) throw new NetSpecError(`${f}.hook`, `${JSON.stringify(c.hook)} is not one of ${NFT_HOOKS.join(', ')}`);
    if (c.policy !== undefined && c.policy !== 'accept' && c.policy !== 'drop') throw new NetSpecError(`${f}.policy`, 'must be accept or drop');
    if (c.policy !== undefined && !base) throw new NetSpecError(`${f}.policy`, 'only a base chain has a policy');
    if (c.device !== undefined) {
      if (spec.family !== 'netdev') throw new NetSpecError(`${f}.device`, 'only netdev chains take a device');
      checkNftName(`${f}.device`, c.device.replace(/[.-]/g, '_'));
    }
    if (!Array.isArray(c.rules)) throw new NetSpecError(`${f}.rules`, 'must be an array of nft statements');
    const rules = c.rules.map((r, j) => checkRule(`${f}.rules[${j}]`, r));
    chains.set(name, {
      name,
      handle: undefined,
      type: c.type,
      hook: c.hook,
      priority: c.priority === undefined ? undefined : resolvePriority(`${f}.priority`, spec.family, c.priority),
      policy: base ? (c.policy ?? 'accept') : undefined,
      device: c.device,
      rules,
      ruleTags: rules.map(ruleTag),
      ruleHandles: [],
    });
  });
  const sets = new Map<string, NftSet>();
  (spec.sets ?? []).forEach((s, i) => {
    const f = `table.sets[${i}]`;
    const { name, keyTypes, flags } = normalizeSetLike(f, s);
    if (sets.has(name)) throw new NetSpecError(`${f}.name`, `set ${name} is declared twice`);
    const interval = flags.includes('interval');
    const elements = new Map<string, string>();
    let j = 0;
    for (const k of s.elements) {
      const key = canonicalKey(`${f}.elements[${j}]`, keyTypes, k, interval);
      if (elements.has(key)) throw new NetSpecError(`${f}.elements[${j}]`, `${key} is listed twice`);
      elements.set(key, '');
      j++;
    }
    sets.set(name, { name, isMap: false, handle: undefined, keyTypes, valueType: undefined, intervalValues: false, flags, elements });
  });
  (spec.maps ?? []).forEach((m, i) => {
    const f = `table.maps[${i}]`;
    const { name, keyTypes, flags } = normalizeSetLike(f, m);
    if (sets.has(name)) throw new NetSpecError(`${f}.name`, `${name} is declared twice (sets and maps share names)`);
    const vt = m.valueType;
    if (vt !== 'verdict' && !NFT_DATA_TYPES.includes(vt)) throw new NetSpecError(`${f}.valueType`, `${JSON.stringify(vt)} is not a data type or verdict`);
    const intervalValues = m.intervalValues ?? false;
    if (intervalValues && (vt === 'verdict' || !flags.includes('interval'))) {
      throw new NetSpecError(`${f}.intervalValues`, 'needs an address value type and flags interval');
    }
    const interval = flags.includes('interval');
    const elements = new Map<string, string>();
    let j = 0;
    for (const pair of m.elements) {
      if (!Array.isArray(pair) || pair.length !== 2) throw new NetSpecError(`${f}.elements[${j}]`, 'must be a [key, value] pair');
      const key = canonicalKey(`${f}.elements[${j}][0]`, keyTypes, pair[0] as NftKey, interval);
      if (elements.has(key)) throw new NetSpecError(`${f}.elements[${j}]`, `key ${key} is listed twice`);
      elements.set(key, canonicalScalar(`${f}.elements[${j}][1]`, vt, pair[1] as NftScalar, intervalValues));
      j++;
    }
    sets.set(name, { name, isMap: true, handle: undefined, keyTypes, valueType: vt, intervalValues, flags, elements });
  });
  return { family: spec.family, name: spec.name, handle: undefined, chains, sets };
}

// ---------------------------------------------------------------------------------------------
// Planning and rendering

export interface NftPlan {
  /** nft script, '' when nothing is to change. */
  readonly script: string;
  readonly chainsRewritten: number;
  readonly elementsAdded: number;
  readonly elementsRemoved: number;
  /** Chains (re)declared: new, or deleted and added again (new handle). */
  readonly declaredChains: readonly string[];
  /** Chains whose rules are written again (flushed if they had any). */
  readonly rewrittenChains: readonly string[];
  /** Chains deleted for good. */
  readonly deletedChains: readonly string[];
  /** Sets/maps declared (new or re-created). */
  readonly declaredSets: readonly string[];
  readonly deletedSets: readonly string[];
}

const ELEMENT_CHUNK = 4096;

function chainDecl(t: NftTable, c: NftChain): string {
  const head = `add chain ${t.family} ${t.name} ${c.name}`;
  if (c.hook === undefined) return head;
  const dev = c.device !== undefined ? ` device "${c.device}" ;` : '';
  return `${head} { type ${c.type as string} hook ${c.hook}${dev} priority ${c.priority as number} ; policy ${c.policy ?? 'accept'} ; }`;
}

function setDecl(t: NftTable, s: NftSet): string {
  const key = s.keyTypes.join(' . ');
  const type = s.isMap ? `${key} : ${s.intervalValues ? 'interval ' : ''}${s.valueType as string}` : key;
  const flags = s.flags.length > 0 ? ` flags ${s.flags.join(',')} ;` : '';
  return `add ${s.isMap ? 'map' : 'set'} ${t.family} ${t.name} ${s.name} { type ${type} ;${flags} }`;
}

function elementLines(verb: 'add' | 'delete', t: NftTable, s: NftSet, items: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < items.length; i += ELEMENT_CHUNK) {
    out.push(`${verb} element ${t.family} ${t.name} ${s.name} { ${items.slice(i, i + ELEMENT_CHUNK).join(', ')} }`);
  }
  return out;
}

function sameChainDecl(a: NftChain, b: NftChain): boolean {
  return a.type === b.type && a.hook === b.hook && a.priority === b.priority && a.device === b.device;
}

function sameSetDecl(a: NftSet, b: NftSet): boolean {
  // nft 1.0.6 prints `interval ipv4_addr` map values as plain `ipv4_addr`: intervalValues is not
  // readable and so not compared.
  return (
    a.isMap === b.isMap &&
    a.keyTypes.join('.') === b.keyTypes.join('.') &&
    a.valueType === b.valueType &&
    a.flags.join(',') === b.flags.join(',')
  );
}

function sameTags(a: readonly (string | undefined)[], b: readonly (string | undefined)[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The minimal nft script that turns `current` (undefined: absent) into `desired`. Pure. */
export function planTable(current: NftTable | undefined, desired: NftTable): NftPlan {
  const t = desired;
  const flushes: string[] = [];
  const deletes: string[] = [];
  const declares: string[] = [];
  const elemDeletes: string[] = [];
  const elemAdds: string[] = [];
  const rules: string[] = [];
  let chainsRewritten = 0;
  const declaredChains: string[] = [];
  const rewrittenChains: string[] = [];
  const deletedChains: string[] = [];
  const declaredSets: string[] = [];
  const deletedSets: string[] = [];
  let elementsAdded = 0;
  let elementsRemoved = 0;

  const curChains = current?.chains ?? new Map<string, NftChain>();
  const curSets = current?.sets ?? new Map<string, NftSet>();

  // Sets and maps first: a removed or re-created one forces every chain to be rewritten (rules may
  // reference it, and it cannot be deleted while referenced).
  let rewriteAll = false;
  for (const [name, cur] of curSets) {
    const want = desired.sets.get(name);
    if (!want || !sameSetDecl(cur, want)) {
      deletes.push(`delete ${cur.isMap ? 'map' : 'set'} ${t.family} ${t.name} ${name}`);
      if (!want) deletedSets.push(name);
      rewriteAll = true;
    }
  }
  for (const [name, want] of desired.sets) {
    const cur = curSets.get(name);
    if (cur && sameSetDecl(cur, want)) {
      const del: string[] = [];
      const add: string[] = [];
      for (const [k, v] of cur.elements) {
        const w = want.elements.get(k);
        if (w === undefined || w !== v) del.push(k);
      }
      for (const [k, v] of want.elements) {
        const c = cur.elements.get(k);
        if (c === undefined || c !== v) add.push(want.isMap ? `${k} : ${v}` : k);
      }
      elemDeletes.push(...elementLines('delete', t, want, del));
      elemAdds.push(...elementLines('add', t, want, add));
      elementsRemoved += del.length;
      elementsAdded += add.length;
    } else {
      declares.push(setDecl(t, want));
      declaredSets.push(name);
      const add = [...want.elements].map(([k, v]) => (want.isMap ? `${k} : ${v}` : k));
      elemAdds.push(...elementLines('add', t, want, add));
      elementsAdded += add.length;
    }
  }

  // A chain that is deleted or re-declared may be the target of a jump: rewrite every chain then.
  for (const [name, cur] of curChains) {
    const want = desired.chains.get(name);
    if (!want || !sameChainDecl(cur, want)) rewriteAll = true;
  }
  for (const [name, cur] of curChains) {
    const want = desired.chains.get(name);
    const redeclare = !want || !sameChainDecl(cur, want);
    const rewrite = redeclare || rewriteAll || !sameTags(cur.ruleTags, want.ruleTags);
    if (rewrite && cur.ruleTags.length > 0) flushes.push(`flush chain ${t.family} ${t.name} ${name}`);
    if (redeclare) deletes.push(`delete chain ${t.family} ${t.name} ${name}`);
    if (!want) deletedChains.push(name);
  }
  for (const [name, want] of desired.chains) {
    const cur = curChains.get(name);
    const redeclare = !cur || !sameChainDecl(cur, want);
    if (redeclare) {
      declares.push(chainDecl(t, want));
      declaredChains.push(name);
    } else if (cur.policy !== want.policy) declares.push(chainDecl(t, want)); // updates the policy in place
    const rewrite = redeclare || rewriteAll || !sameTags(cur.ruleTags, want.ruleTags);
    if (!rewrite) continue;
    rewrittenChains.push(name);
    if (want.rules.length > 0 || (cur?.ruleTags.length ?? 0) > 0) chainsRewritten++;
    for (const r of want.rules) rules.push(`add rule ${t.family} ${t.name} ${name} ${r} comment "${ruleTag(r)}"`);
  }

  const body = [...flushes, ...deletes, ...declares, ...elemDeletes, ...elemAdds, ...rules];
  const lists = { declaredChains, rewrittenChains, deletedChains, declaredSets, deletedSets };
  if (body.length === 0 && current) return { script: '', chainsRewritten: 0, elementsAdded: 0, elementsRemoved: 0, ...lists };
  const lines = current ? body : [`add table ${t.family} ${t.name}`, ...body];
  return { script: `${lines.join('\n')}\n`, chainsRewritten, elementsAdded, elementsRemoved, ...lists };
}

// ---------------------------------------------------------------------------------------------
// Reading

const FAMILY_SET: readonly string[] = NFT_FAMILIES;

/** Parses `nft -j list table <family> <name>` into the normalized model. */
export function parseTable(json: unknown, family: NftFamily, name: string, command: string, netns: Netns): NftTable {
  const rd: OutputReader = new OutputReader(command, netns);
  const top = rd.object(json, '');
  const items = rd.array(top['nftables'], '.nftables');
  let handle: number | undefined;
  const chains = new Map<string, { c: Omit<NftChain, 'ruleTags' | 'ruleHandles'>; tags: (string | undefined)[]; handles: number[] }>();
  const sets = new Map<string, NftSet>();
  const pending: { chain: string; tag: string | undefined; handle: number }[] = [];
  items.forEach((it, i) => {
    const p = `.nftables[${i}]`;
    const o = rd.object(it, p);
    if ('metainfo' in o) return;
    if ('table' in o) {
      const tb = rd.object(o['table'], `${p}.table`);
      handle = rd.optNumber(tb, 'handle', `${p}.table`);
      return;
    }
    if ('chain' in o) {
      const q = `${p}.chain`;
      const c = rd.object(o['chain'], q);
      const cname = rd.string(c, 'name', q);
      const prio = c['prio'];
      chains.set(cname, {
        c: {
          name: cname,
          handle: rd.optNumber(c, 'handle', q),
          type: rd.optString(c, 'type', q) as NftChainType | undefined,
          hook: rd.optString(c, 'hook', q) as NftHook | undefined,
          priority: typeof prio === 'number' ? prio : prio === undefined ? undefined : rd.fail(`${q}.prio`, 'is not a number'),
          policy: rd.optString(c, 'policy', q) as 'accept' | 'drop' | undefined,
          device: rd.optString(c, 'dev', q),
          rules: [],
        },
        tags: [],
        handles: [],
      });
      return;
    }
    if ('rule' in o) {
      const q = `${p}.rule`;
      const r = rd.object(o['rule'], q);
      const comment = rd.optString(r, 'comment', q);
      pending.push({
        chain: rd.string(r, 'chain', q),
        tag: comment?.startsWith('strait:') ? comment : undefined,
        handle: rd.number(r, 'handle', q),
      });
      return;
    }
    for (const kind of ['set', 'map'] as const) {
      if (!(kind in o)) continue;
      const q = `${p}.${kind}`;
      const s = rd.object(o[kind], q);
      const sname = rd.string(s, 'name', q);
      const rawType = s['type'];
      const keyTypes = (Array.isArray(rawType) ? rawType : [rawType]).map((t, j) => {
        if (typeof t !== 'string') rd.fail(`${q}.type`, 'is not a type name');
        if (!NFT_DATA_TYPES.includes(t as NftDataType)) {
          rd.fail(`${q}.type${Array.isArray(rawType) ? `[${j}]` : ''}`, `${JSON.stringify(t)} is a type Strait does not manage`);
        }
        return t as NftDataType;
      });
      const valueType = kind === 'map' ? (rd.string(s, 'map', q) as NftValueType) : undefined;
      const flags = [...rd.stringArray(s, 'flags', q)].sort();
      const elements = new Map<string, string>();
      const elem = s['elem'] === undefined ? [] : rd.array(s['elem'], `${q}.elem`);
      try {
        for (const e of elem) {
          if (kind === 'map') {
            if (!Array.isArray(e) || e.length !== 2) rd.fail(`${q}.elem`, 'holds an entry that is not a [key, value] pair');
            elements.set(keyFromJson(keyTypes, e[0]), scalarFromJson(valueType as NftValueType, e[1]));
          } else {
            elements.set(keyFromJson(keyTypes, e), '');
          }
        }
      } catch (err) {
        if (err instanceof NftElementFormatError) rd.fail(`${q}.elem`, `holds an element Strait cannot read (${err.message})`);
        throw err;
      }
      sets.set(sname, {
        name: sname,
        isMap: kind === 'map',
        handle: rd.optNumber(s, 'handle', q),
        keyTypes,
        valueType,
        intervalValues: false,
        flags,
        elements,
      });
    }
  });
  for (const r of pending) {
    const c = chains.get(r.chain);
    if (!c) rd.fail('.nftables', `has a rule in unknown chain ${r.chain}`);
    c.tags.push(r.tag);
    c.handles.push(r.handle);
  }
  const out = new Map<string, NftChain>();
  for (const [n, { c, tags, handles }] of chains) out.set(n, { ...c, ruleTags: tags, ruleHandles: handles });
  if (!FAMILY_SET.includes(family)) rd.fail('', `family ${family}`);
  return { family, name, handle, chains: out, sets };
}

// ---------------------------------------------------------------------------------------------

function nftMissing(e: unknown): boolean {
  return e instanceof NetCommandError && /No such file or directory/.test(e.stderr);
}

export class NftTables implements NftPort {
  readonly #runner: CommandRunner;
  /** What this port last committed per table (`netns|family|name`); see {@link NftApplyOptions}. */
  readonly #committed = new Map<string, NftTable>();

  constructor(runner: CommandRunner = defaultCommandRunner()) {
    this.#runner = runner;
  }

  async listTables(netns: Netns): Promise<NftTableRef[]> {
    const args = ['-j', 'list', 'tables'];
    const { stdout } = await this.#runner.run('nft', args, netns ? { netns } : {});
    const command = `nft ${args.join(' ')}`;
    const rd: OutputReader = new OutputReader(command, netns);
    const top = rd.object(parseJsonOutput(stdout, command, netns, { nftables: [] }), '');
    const out: NftTableRef[] = [];
    rd.array(top['nftables'], '.nftables').forEach((it, i) => {
      const o = rd.object(it, `.nftables[${i}]`);
      if (!('table' in o)) return;
      const t = rd.object(o['table'], `.nftables[${i}].table`);
      out.push({ family: rd.string(t, 'family', `.nftables[${i}].table`) as NftFamily, name: rd.string(t, 'name', `.nftables[${i}].table`) });
    });
    return out;
  }

  async read(netns: Netns, family: NftFamily, name: string): Promise<NftTable | undefined> {
    assertStraitTableName(name);
    if (!NFT_FAMILIES.includes(family)) throw new NetSpecError('family', `${JSON.stringify(family)} is not an nftables family`);
    const args = ['-j', 'list', 'table', family, name];
    let stdout: string;
    try {
      ({ stdout } = await this.#runner.run('nft', args, netns ? { netns } : {}));
    } catch (e) {
      if (nftMissing(e)) return undefined;
      throw e;
    }
    const command = `nft ${args.join(' ')}`;
    return parseTable(parseJsonOutput(stdout, command, netns, {}), family, name, command, netns);
  }

  async apply(netns: Netns, desired: NftTableSpec, opts: NftApplyOptions = {}): Promise<NftApplyReport> {
    const want = normalizeTable(desired);
    const key = `${netns ?? ''}|${want.family}|${want.name}`;
    const remembered = opts.trustLastApplied ? this.#committed.get(key) : undefined;
    const current = remembered ?? (await this.read(netns, want.family, want.name));
    const plan = planTable(current, want);
    if (plan.script === '') {
      this.#committed.set(key, want);
      return { changed: false, writes: 0, script: '', chainsRewritten: 0, elementsAdded: 0, elementsRemoved: 0 };
    }
    try {
      await this.#runner.run('nft', ['-f', '-'], { ...(netns ? { netns } : {}), input: plan.script });
    } catch (e) {
      this.#committed.delete(key);
      if (remembered) return this.apply(netns, desired); // the kernel differed from memory: read and retry
      throw e;
    }
    this.#committed.set(key, want);
    const { script, chainsRewritten, elementsAdded, elementsRemoved } = plan;
    return { changed: true, writes: 1, script, chainsRewritten, elementsAdded, elementsRemoved };
  }

  async updateElements(netns: Netns, ref: NftSetRef, changes: NftElementChanges): Promise<NftApplyReport> {
    assertStraitTableName(ref.table);
    const key = `${netns ?? ''}|${ref.family}|${ref.table}`;
    let table = this.#committed.get(key);
    if (!table) {
      table = await this.read(netns, ref.family, ref.table);
      if (!table) throw new NetSpecError('table', `${ref.family} ${ref.table} does not exist${netns ? ` in netns ${netns}` : ''}`);
    }
    const plan = planElementUpdate(table, ref, changes);
    if (plan.script === '') return { changed: false, writes: 0, script: '', chainsRewritten: 0, elementsAdded: 0, elementsRemoved: 0 };
    try {
      await this.#runner.run('nft', ['-f', '-'], { ...(netns ? { netns } : {}), input: plan.script });
    } catch (e) {
      this.#committed.delete(key);
      throw e;
    }
    this.#committed.set(key, plan.next);
    return { changed: true, writes: 1, script: plan.script, chainsRewritten: 0, elementsAdded: plan.added, elementsRemoved: plan.removed };
  }

  async deleteTable(netns: Netns, family: NftFamily, name: string): Promise<NftApplyReport> {
    assertStraitTableName(name);
    const exists = (await this.listTables(netns)).some((t) => t.family === family && t.name === name);
    if (!exists) return { changed: false, writes: 0, script: '', chainsRewritten: 0, elementsAdded: 0, elementsRemoved: 0 };
    const script = `delete table ${family} ${name}\n`;
    this.#committed.delete(`${netns ?? ''}|${family}|${name}`);
    await this.#runner.run('nft', ['-f', '-'], { ...(netns ? { netns } : {}), input: script });
    return { changed: true, writes: 1, script, chainsRewritten: 0, elementsAdded: 0, elementsRemoved: 0 };
  }
}

export { isStraitTableName };
