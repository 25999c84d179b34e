import { report, type ApplyReport, type Netns } from './apply-report.ts';
import { diffByKey, isEmptyDiff, type KeyedDiff } from './diff.ts';
import { defaultCommandRunner, runJson, type CommandRunner } from './exec.ts';
import { runIpTransaction, type IpOp } from './ip-batch.ts';
import { canonicalCidr, formatIp, ipFamily, parseCidr, type Family } from './ip-address.ts';
import { STRAIT_PROTO, assertOwnedProto } from './ownership.ts';
import { NetSpecError, OutputReader, checkIfName, checkInt } from './validate.ts';

/**
 * Policy routing rules (`ip rule`), owned by protocol number. A rule has no identity besides all
 * of its fields, so the diff adds and deletes whole rules (there is no in-place change).
 */

export interface RuleSpec {
  /** Rule priority (preference). Required: it orders Strait's rules against the system's. */
  readonly priority: number;
  readonly from?: string;
  readonly to?: string;
  readonly iif?: string;
  readonly oif?: string;
  readonly fwmark?: number;
  /** Mask for `fwmark` (default 0xffffffff). */
  readonly fwmask?: number;
  /** Table to look up. */
  readonly table: number;
  /** Needed only when neither `from` nor `to` is given (default 4). */
  readonly family?: Family;
}

export interface Rule {
  readonly family: Family;
  readonly priority: number;
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly iif: string | undefined;
  readonly oif: string | undefined;
  readonly fwmark: number | undefined;
  readonly fwmask: number | undefined;
  readonly table: number;
}

export interface RuleScope {
  readonly proto?: number;
  /** Only rules that look up these tables are this caller's. */
  readonly tables?: readonly number[];
}

export interface RulesPort {
  list(netns: Netns, scope?: RuleScope): Promise<Rule[]>;
  apply(netns: Netns, desired: readonly RuleSpec[], scope?: RuleScope): Promise<ApplyReport>;
  deleteOwned(netns: Netns, scope?: RuleScope): Promise<ApplyReport>;
}

export function ruleKey(r: Rule): string {
  return [r.family, r.priority, r.from ?? '', r.to ?? '', r.iif ?? '', r.oif ?? '', r.fwmark ?? '', r.fwmask ?? '', r.table].join('|');
}

export function normalizeRule(s: RuleSpec, field: string): Rule {
  if (typeof s !== 'object' || s === null) throw new NetSpecError(field, 'must be an object');
  const priority = checkInt(`${field}.priority`, s.priority, 1, 0xfffffffe);
  const table = checkInt(`${field}.table`, s.table, 1, 0xfffffffe);
  let family: Family | undefined = s.family;
  if (family !== undefined && family !== 4 && family !== 6) throw new NetSpecError(`${field}.family`, 'must be 4 or 6');
  const prefix = (k: 'from' | 'to'): string | undefined => {
    const v = s[k];
    if (v === undefined) return undefined;
    const c = typeof v === 'string' ? canonicalCidr(v) : undefined;
    if (!c) throw new NetSpecError(`${field}.${k}`, `${JSON.stringify(v)} is not a prefix or address`);
    const f = ipFamily(c) as Family;
    if (family !== undefined && f !== family) throw new NetSpecError(`${field}.${k}`, `${v} is not IPv${family}`);
    family = f;
    // "from 0.0.0.0/0" is what the kernel shows as "all": keep it open.
    return c.endsWith('/0') ? undefined : c;
  };
  const from = prefix('from');
  const to = prefix('to');
  const fwmark = s.fwmark === undefined ? undefined : checkInt(`${field}.fwmark`, s.fwmark, 0, 0xffffffff);
  let fwmask = s.fwmask === undefined ? undefined : checkInt(`${field}.fwmask`, s.fwmask, 0, 0xffffffff);
  if (fwmask !== undefined && fwmark === undefined) throw new NetSpecError(`${field}.fwmask`, 'needs fwmark');
  if (fwmark !== undefined && fwmask === undefined) fwmask = 0xffffffff;
  return {
    family: family ?? 4,
    priority,
    from,
    to,
    iif: s.iif === undefined ? undefined : checkIfName(`${field}.iif`, s.iif),
    oif: s.oif === undefined ? undefined : checkIfName(`${field}.oif`, s.oif),
    fwmark,
    fwmask,
    table,
  };
}

export function normalizeRules(desired: readonly RuleSpec[], scope: RuleScope = {}, what = 'rules'): Rule[] {
  const out = desired.map((s, i) => normalizeRule(s, `${what}[${i}]`));
  const seen = new Map<string, number>();
  out.forEach((r, i) => {
    const k = ruleKey(r);
    const prev = seen.get(k);
    if (prev !== undefined) throw new NetSpecError(`${what}[${i}]`, `duplicates ${what}[${prev}]`);
    seen.set(k, i);
    if (scope.tables && !scope.tables.includes(r.table)) {
      throw new NetSpecError(`${what}[${i}].table`, `${r.table} is outside this owner's tables (${scope.tables.join(', ')})`);
    }
  });
  return out;
}

export function planRules(current: readonly Rule[], desired: readonly Rule[]): KeyedDiff<Rule> {
  return diffByKey(current, desired, ruleKey, ruleKey, () => true);
}

export function ruleArgs(verb: 'add' | 'del', r: Rule, proto: number): string[] {
  const a = ['rule', verb, 'priority', String(r.priority)];
  // Without a prefix the family is carried by "from ::/0" (batch lines take no -6).
  a.push('from', r.from ?? (r.family === 6 ? '::/0' : '0.0.0.0/0'));
  if (r.to !== undefined) a.push('to', r.to);
  if (r.iif !== undefined) a.push('iif', r.iif);
  if (r.oif !== undefined) a.push('oif', r.oif);
  if (r.fwmark !== undefined) a.push('fwmark', `0x${r.fwmark.toString(16)}/0x${(r.fwmask ?? 0xffffffff).toString(16)}`);
  a.push('lookup', String(r.table), 'protocol', String(proto));
  return a;
}

/** Adds first, deletions after; every operation reversible. */
export function ruleOps(plan: KeyedDiff<Rule>, proto: number): IpOp[] {
  return [
    ...plan.add.map((r) => ({ args: ruleArgs('add', r, proto), undo: ruleArgs('del', r, proto) })),
    ...plan.remove.map((r) => ({ args: ruleArgs('del', r, proto), undo: ruleArgs('add', r, proto) })),
  ];
}

/** Parses `ip -N -j -<family> rule show`, keeping rules with protocol `proto` only. */
export function parseRules(json: unknown, family: Family, proto: number, command: string, netns: Netns): Rule[] {
  const rd: OutputReader = new OutputReader(command, netns);
  const out: Rule[] = [];
  rd.array(json, '').forEach((v, i) => {
    const p = `[${i}]`;
    const o = rd.object(v, p);
    if (rd.optNumeric(o, 'protocol', p) !== proto) return;
    const pfx = (addrKey: string, lenKey: string): string | undefined => {
      const a = rd.optString(o, addrKey, p);
      if (a === undefined || a === 'all') return undefined;
      const len = rd.optNumber(o, lenKey, p) ?? (family === 4 ? 32 : 128);
      const c = parseCidr(`${a}/${len}`);
      if (!c) rd.fail(`${p}.${addrKey}`, `is ${JSON.stringify(a)}, expected an address`);
      return len === 0 ? undefined : `${formatIp(c.family, c.network)}/${len}`;
    };
    const fwmark = rd.optNumeric(o, 'fwmark', p);
    out.push({
      family,
      priority: rd.number(o, 'priority', p),
      from: pfx('src', 'srclen'),
      to: pfx('dst', 'dstlen'),
      iif: rd.optString(o, 'iif', p),
      oif: rd.optString(o, 'oif', p),
      fwmark,
      fwmask: fwmark === undefined ? undefined : (rd.optNumeric(o, 'fwmask', p) ?? 0xffffffff),
      table: rd.optNumeric(o, 'table', p) ?? 0,
    });
  });
  return out;
}

export class IpRules implements RulesPort {
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner = defaultCommandRunner()) {
    this.#runner = runner;
  }

  async list(netns: Netns, scope: RuleScope = {}): Promise<Rule[]> {
    const proto = scope.proto ?? STRAIT_PROTO;
    assertOwnedProto(proto);
    const out: Rule[] = [];
    for (const family of [4, 6] as const) {
      // iproute2 6.1 does not filter rules by protocol itself: filtering happens in parseRules.
      const args = [`-${family}`, '-N', '-j', 'rule', 'show'];
      const json = await runJson(this.#runner, 'ip', args, netns ? { netns } : {});
      for (const r of parseRules(json, family, proto, `ip ${args.join(' ')}`, netns)) {
        if (!scope.tables || scope.tables.includes(r.table)) out.push(r);
      }
    }
    return out;
  }

  async apply(netns: Netns, desired: readonly RuleSpec[], scope: RuleScope = {}): Promise<ApplyReport> {
    const proto = scope.proto ?? STRAIT_PROTO;
    assertOwnedProto(proto);
    const want = normalizeRules(desired, scope);
    const plan = planRules(await this.list(netns, scope), want);
    if (isEmptyDiff(plan)) return report(0, 0, 0, plan.unchanged.length, 0);
    await runIpTransaction(this.#runner, netns, ruleOps(plan, proto));
    return report(plan.add.length, plan.remove.length, 0, plan.unchanged.length, 1);
  }

  deleteOwned(netns: Netns, scope: RuleScope = {}): Promise<ApplyReport> {
    return this.apply(netns, [], scope);
  }
}
