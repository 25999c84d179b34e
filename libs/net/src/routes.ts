import { report, type ApplyReport, type Netns } from './apply-report.ts';
import { diffByKey, isEmptyDiff, type KeyedDiff } from './diff.ts';
import { defaultCommandRunner, runJson, type CommandRunner } from './exec.ts';
import { runIpTransaction, type IpOp } from './ip-batch.ts';
import { canonicalIp, canonicalRouteDst, ipFamily, type Family } from './ip-address.ts';
import { STRAIT_PROTO, assertOwnedProto } from './ownership.ts';
import { NetSpecError, OutputReader, checkIfName, checkInt } from './validate.ts';

/**
 * Routes in any table, owned by protocol number (see `ownership.ts`). Identity (what the kernel
 * keys a route on, and what `ip route replace` replaces): family, table, destination, metric.
 */

export const ROUTE_TYPES = ['unicast', 'blackhole', 'unreachable', 'prohibit', 'throw'] as const;
export type RouteType = (typeof ROUTE_TYPES)[number];

export const MAIN_TABLE = 254;

export interface RouteSpec {
  /** `10.1.0.0/16`, `fd00::/64`, a host address, or `default` (IPv4 unless `family: 6`). */
  readonly dst: string;
  readonly family?: Family;
  /** Routing table id, default 254 (main). */
  readonly table?: number;
  readonly type?: RouteType;
  readonly via?: string;
  readonly dev?: string;
  readonly src?: string;
  /** Default 0 for IPv4, 1024 for IPv6 (the kernel's defaults). */
  readonly metric?: number;
  /** Gateway is on-link even if no prefix covers it (needs `via` and `dev`). */
  readonly onlink?: boolean;
  /** Path MTU of the route (`mtu N`). */
  readonly mtu?: number;
}

/** A route as normalized from desired state or read from the kernel. */
export interface Route {
  readonly family: Family;
  readonly dst: string;
  readonly table: number;
  readonly type: RouteType;
  readonly via: string | undefined;
  readonly dev: string | undefined;
  readonly src: string | undefined;
  readonly metric: number;
  readonly onlink: boolean;
  readonly mtu: number | undefined;
}

export interface RouteScope {
  /** Protocol number marking Strait's routes (default {@link STRAIT_PROTO}). */
  readonly proto?: number;
  /**
   * Only these tables are this caller's: owned routes in other tables are neither listed nor
   * deleted. Lets two Strait components share a namespace (each with its own tables).
   */
  readonly tables?: readonly number[];
}

export interface RoutesPort {
  /** Strait's routes (by proto) in `netns`, optionally only in `scope.tables`. */
  list(netns: Netns, scope?: RouteScope): Promise<Route[]>;
  /** Makes the owned routes in scope exactly `desired`; applies only the difference, atomically. */
  apply(netns: Netns, desired: readonly RouteSpec[], scope?: RouteScope): Promise<ApplyReport>;
  /** Deletes every owned route in scope. */
  deleteOwned(netns: Netns, scope?: RouteScope): Promise<ApplyReport>;
}

const DEFAULT_METRIC: Record<Family, number> = { 4: 0, 6: 1024 };

export function routeKey(r: Route): string {
  return `${r.family}|${r.table}|${r.dst}|${r.metric}`;
}

/** Validates and normalizes desired routes (field errors name `routes[i].field`). */
export function normalizeRoutes(desired: readonly RouteSpec[], scope: RouteScope = {}, what = 'routes'): Route[] {
  const out = desired.map((s, i) => normalizeRoute(s, `${what}[${i}]`));
  const seen = new Map<string, number>();
  out.forEach((r, i) => {
    const k = routeKey(r);
    const prev = seen.get(k);
    if (prev !== undefined) {
      throw new NetSpecError(`${what}[${i}]`, `duplicates ${what}[${prev}] (table ${r.table} ${r.dst} metric ${r.metric})`);
    }
    seen.set(k, i);
    if (scope.tables && !scope.tables.includes(r.table)) {
      throw new NetSpecError(`${what}[${i}].table`, `${r.table} is outside this owner's tables (${scope.tables.join(', ')})`);
    }
  });
  return out;
}

export function normalizeRoute(s: RouteSpec, field: string): Route {
  if (typeof s !== 'object' || s === null) throw new NetSpecError(field, 'must be an object');
  const type = s.type ?? 'unicast';
  if (!ROUTE_TYPES.includes(type)) throw new NetSpecError(`${field}.type`, `${JSON.stringify(type)} is not one of ${ROUTE_TYPES.join(', ')}`);
  if (typeof s.dst !== 'string') throw new NetSpecError(`${field}.dst`, 'is required');
  const viaFamily = s.via !== undefined ? ipFamily(s.via) : undefined;
  const family: Family = s.family ?? ipFamily(s.dst) ?? viaFamily ?? 4;
  if (s.family !== undefined && s.family !== 4 && s.family !== 6) throw new NetSpecError(`${field}.family`, 'must be 4 or 6');
  const dst = canonicalRouteDst(s.dst, family);
  if (!dst) throw new NetSpecError(`${field}.dst`, `${JSON.stringify(s.dst)} is not a prefix, address or "default"`);
  if (ipFamily(dst) !== family) throw new NetSpecError(`${field}.dst`, `${s.dst} is not an IPv${family} prefix`);
  const table = s.table === undefined ? MAIN_TABLE : checkInt(`${field}.table`, s.table, 1, 0xfffffffe);
  if (table === 255) throw new NetSpecError(`${field}.table`, 'the local table (255) is the kernel\'s');
  const metric = s.metric === undefined ? DEFAULT_METRIC[family] : checkInt(`${field}.metric`, s.metric, 0, 0xffffffff);
  let via: string | undefined;
  if (s.via !== undefined) {
    via = canonicalIp(s.via);
    if (!via) throw new NetSpecError(`${field}.via`, `${JSON.stringify(s.via)} is not an IP address`);
    if (viaFamily !== family) throw new NetSpecError(`${field}.via`, `${s.via} is not an IPv${family} address`);
  }
  let src: string | undefined;
  if (s.src !== undefined) {
    src = canonicalIp(s.src);
    if (!src || ipFamily(src) !== family) throw new NetSpecError(`${field}.src`, `${JSON.stringify(s.src)} is not an IPv${family} address`);
  }
  const dev = s.dev === undefined ? undefined : checkIfName(`${field}.dev`, s.dev);
  if (type === 'unicast' && via === undefined && dev === undefined) {
    throw new NetSpecError(field, 'a unicast route needs "via" or "dev"');
  }
  if (type !== 'unicast' && (via !== undefined || dev !== undefined || s.onlink)) {
    throw new NetSpecError(field, `a ${type} route takes no "via", "dev" or "onlink"`);
  }
  if (s.onlink && (via === undefined || dev === undefined)) throw new NetSpecError(`${field}.onlink`, 'needs both "via" and "dev"');
  const mtu = s.mtu === undefined ? undefined : checkInt(`${field}.mtu`, s.mtu, 68, 65535);
  return { family, dst, table, type, via, dev, src, metric, onlink: s.onlink ?? false, mtu };
}

/** Whether the kernel's route satisfies the desired one (fields left open in desired are ignored). */
export function routeSatisfies(cur: Route, want: Route): boolean {
  return (
    cur.type === want.type &&
    cur.via === want.via &&
    (want.dev === undefined || cur.dev === want.dev) &&
    (want.src === undefined || cur.src === want.src) &&
    cur.onlink === want.onlink &&
    cur.mtu === want.mtu
  );
}

export function planRoutes(current: readonly Route[], desired: readonly Route[]): KeyedDiff<Route> {
  return diffByKey(current, desired, routeKey, routeKey, routeSatisfies);
}

/** `route <verb> ...` arguments for one route. */
export function routeArgs(verb: 'add' | 'del' | 'replace', r: Route, proto: number): string[] {
  const a = ['route', verb];
  if (r.type !== 'unicast') a.push(r.type);
  a.push(r.dst);
  if (r.via !== undefined) a.push('via', r.via);
  if (r.dev !== undefined) a.push('dev', r.dev);
  if (r.src !== undefined && verb !== 'del') a.push('src', r.src);
  a.push('table', String(r.table), 'proto', String(proto), 'metric', String(r.metric));
  if (r.onlink && verb !== 'del') a.push('onlink');
  if (r.mtu !== undefined && verb !== 'del') a.push('mtu', String(r.mtu));
  return a;
}

/**
 * Batch operations for a plan: adds first (make before break), then replacements, then deletions.
 * Every operation is reversible (a deleted route is re-added as it was).
 */
export function routeOps(plan: KeyedDiff<Route>, proto: number): IpOp[] {
  const ops: IpOp[] = [];
  for (const r of plan.add) ops.push({ args: routeArgs('add', r, proto), undo: routeArgs('del', r, proto) });
  for (const { from, to } of plan.change) {
    ops.push({ args: routeArgs('replace', to, proto), undo: routeArgs('replace', from, proto) });
  }
  for (const r of plan.remove) ops.push({ args: routeArgs('del', r, proto), undo: routeArgs('add', r, proto) });
  return ops;
}

const RTN_TYPES: Record<string, RouteType | 'other'> = {
  '1': 'unicast',
  unicast: 'unicast',
  '6': 'blackhole',
  blackhole: 'blackhole',
  '7': 'unreachable',
  unreachable: 'unreachable',
  '8': 'prohibit',
  prohibit: 'prohibit',
  '9': 'throw',
  throw: 'throw',
};

/** Parses `ip -N -j route show table all proto P` output. Only types Strait creates are returned. */
export function parseRoutes(json: unknown, family: Family, command: string, netns: Netns): Route[] {
  const rd: OutputReader = new OutputReader(command, netns);
  const out: Route[] = [];
  rd.array(json, '').forEach((v, i) => {
    const p = `[${i}]`;
    const o = rd.object(v, p);
    const typeText = rd.optString(o, 'type', p) ?? 'unicast';
    const type = RTN_TYPES[typeText];
    if (type === undefined || type === 'other') return; // local/broadcast/multicast: never Strait's
    const dstText = rd.string(o, 'dst', p);
    const gw = rd.optString(o, 'gateway', p);
    const dst = canonicalRouteDst(dstText, family);
    if (!dst || ipFamily(dst) !== family) rd.fail(`${p}.dst`, `is ${JSON.stringify(dstText)}, expected an IPv${family} prefix`);
    const tableNum = rd.optNumeric(o, 'table', p);
    const metric = rd.optNumber(o, 'metric', p) ?? 0;
    const flags = rd.stringArray(o, 'flags', p);
    let mtu: number | undefined;
    const metrics = o['metrics'];
    if (metrics !== undefined) {
      for (const [j, m] of rd.array(metrics, `${p}.metrics`).entries()) {
        const mo = rd.object(m, `${p}.metrics[${j}]`);
        const v2 = rd.optNumber(mo, 'mtu', `${p}.metrics[${j}]`);
        if (v2 !== undefined) mtu = v2;
      }
    }
    const prefsrc = rd.optString(o, 'prefsrc', p);
    out.push({
      family,
      dst,
      table: tableNum ?? MAIN_TABLE,
      type,
      via: gw === undefined ? undefined : (canonicalIp(gw) ?? gw),
      dev: type === 'unicast' ? rd.optString(o, 'dev', p) : undefined,
      src: prefsrc === undefined ? undefined : (canonicalIp(prefsrc) ?? prefsrc),
      metric,
      onlink: flags.includes('onlink'),
      mtu,
    });
  });
  return out;
}

/** Routes over `ip -N -j route` / `ip -batch`. */
export class IpRoutes implements RoutesPort {
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner = defaultCommandRunner()) {
    this.#runner = runner;
  }

  async list(netns: Netns, scope: RouteScope = {}): Promise<Route[]> {
    const proto = scope.proto ?? STRAIT_PROTO;
    assertOwnedProto(proto);
    const out: Route[] = [];
    // One dump per family: `default` carries no family of its own in the JSON.
    for (const family of [4, 6] as const) {
      const args = [`-${family}`, '-N', '-j', 'route', 'show', 'table', 'all', 'proto', String(proto)];
      const json = await runJson(this.#runner, 'ip', args, netns ? { netns } : {});
      for (const r of parseRoutes(json, family, `ip ${args.join(' ')}`, netns)) {
        if (!scope.tables || scope.tables.includes(r.table)) out.push(r);
      }
    }
    return out;
  }

  async apply(netns: Netns, desired: readonly RouteSpec[], scope: RouteScope = {}): Promise<ApplyReport> {
    const proto = scope.proto ?? STRAIT_PROTO;
    assertOwnedProto(proto);
    const want = normalizeRoutes(desired, scope);
    const current = await this.list(netns, scope);
    const plan = planRoutes(current, want);
    if (isEmptyDiff(plan)) return report(0, 0, 0, plan.unchanged.length, 0);
    await runIpTransaction(this.#runner, netns, routeOps(plan, proto));
    return report(plan.add.length, plan.remove.length, plan.change.length, plan.unchanged.length, 1);
  }

  deleteOwned(netns: Netns, scope: RouteScope = {}): Promise<ApplyReport> {
    return this.apply(netns, [], scope);
  }
}
