import { report, type ApplyReport, type Netns } from './apply-report.ts';
import { diffByKey, isEmptyDiff, type KeyedDiff } from './diff.ts';
import { defaultCommandRunner, runJson, type CommandRunner } from './exec.ts';
import { runIpTransaction, type IpOp } from './ip-batch.ts';
import { canonicalIp } from './ip-address.ts';
import { parseLinks, type Link, type LinkScope } from './links.ts';
import { NetSpecError, OutputReader, checkIfName, checkInt, checkMac } from './validate.ts';

/**
 * Static neighbour entries (`ip neigh ... nud permanent`) and forwarding-database entries of VXLAN
 * links (`bridge fdb append <mac> dev vx dst <ip>`), on this owner's links only. Dynamic entries
 * the kernel learns are never touched, and neither is the fdb entry the kernel creates for a vxlan
 * link's own `remote` (it belongs to the link).
 */

export interface NeighbourSpec {
  readonly dev: string;
  /** IP address of the neighbour. */
  readonly address: string;
  readonly lladdr: string;
}

export interface Neighbour {
  readonly dev: string;
  readonly address: string;
  readonly lladdr: string;
}

export interface FdbSpec {
  /** A vxlan link. */
  readonly dev: string;
  /** Destination MAC; `00:00:00:00:00:00` entries form the flood list (head-end replication). */
  readonly mac: string;
  /** Remote VTEP address. */
  readonly dst: string;
  readonly vni?: number;
  readonly port?: number;
}

export interface FdbEntry {
  readonly dev: string;
  readonly mac: string;
  readonly dst: string;
  readonly vni: number | undefined;
  readonly port: number | undefined;
}

export interface NeighboursPort {
  listNeighbours(netns: Netns, scope: LinkScope): Promise<Neighbour[]>;
  applyNeighbours(netns: Netns, desired: readonly NeighbourSpec[], scope: LinkScope): Promise<ApplyReport>;
  listFdb(netns: Netns, scope: LinkScope): Promise<FdbEntry[]>;
  applyFdb(netns: Netns, desired: readonly FdbSpec[], scope: LinkScope): Promise<ApplyReport>;
}

export const neighbourKey = (n: Neighbour): string => `${n.dev}|${n.address}`;
export const fdbKey = (e: FdbEntry): string => `${e.dev}|${e.mac}|${e.dst}`;

export function normalizeNeighbours(desired: readonly NeighbourSpec[], owned: ReadonlySet<string>): Neighbour[] {
  const seen = new Map<string, number>();
  return desired.map((s, i) => {
    const f = `neighbours[${i}]`;
    const dev = checkIfName(`${f}.dev`, s.dev);
    if (!owned.has(dev)) throw new NetSpecError(`${f}.dev`, `${dev} is not a link of this owner`);
    const address = typeof s.address === 'string' ? canonicalIp(s.address) : undefined;
    if (!address) throw new NetSpecError(`${f}.address`, `${JSON.stringify(s.address)} is not an IP address`);
    const n = { dev, address, lladdr: checkMac(`${f}.lladdr`, s.lladdr) };
    const prev = seen.get(neighbourKey(n));
    if (prev !== undefined) throw new NetSpecError(f, `duplicates neighbours[${prev}]`);
    seen.set(neighbourKey(n), i);
    return n;
  });
}

export function normalizeFdb(desired: readonly FdbSpec[], owned: ReadonlySet<string>): FdbEntry[] {
  const seen = new Map<string, number>();
  return desired.map((s, i) => {
    const f = `fdb[${i}]`;
    const dev = checkIfName(`${f}.dev`, s.dev);
    if (!owned.has(dev)) throw new NetSpecError(`${f}.dev`, `${dev} is not a link of this owner`);
    const dst = typeof s.dst === 'string' ? canonicalIp(s.dst) : undefined;
    if (!dst) throw new NetSpecError(`${f}.dst`, `${JSON.stringify(s.dst)} is not an IP address`);
    const e: FdbEntry = {
      dev,
      mac: checkMac(`${f}.mac`, s.mac),
      dst,
      vni: s.vni === undefined ? undefined : checkInt(`${f}.vni`, s.vni, 0, 0xffffff),
      port: s.port === undefined ? undefined : checkInt(`${f}.port`, s.port, 1, 65535),
    };
    const prev = seen.get(fdbKey(e));
    if (prev !== undefined) throw new NetSpecError(f, `duplicates fdb[${prev}]`);
    seen.set(fdbKey(e), i);
    return e;
  });
}

export function planNeighbours(current: readonly Neighbour[], desired: readonly Neighbour[]): KeyedDiff<Neighbour> {
  return diffByKey(current, desired, neighbourKey, neighbourKey, (c, d) => c.lladdr === d.lladdr);
}

export function planFdb(current: readonly FdbEntry[], desired: readonly FdbEntry[]): KeyedDiff<FdbEntry> {
  return diffByKey(current, desired, fdbKey, fdbKey, (c, d) => c.vni === d.vni && c.port === d.port);
}

const neighArgs = (verb: 'add' | 'del' | 'replace', n: Neighbour): string[] =>
  verb === 'del'
    ? ['neigh', 'del', n.address, 'dev', n.dev]
    : ['neigh', verb, n.address, 'lladdr', n.lladdr, 'dev', n.dev, 'nud', 'permanent'];

function fdbArgs(verb: 'append' | 'del', e: FdbEntry): string[] {
  const a = ['fdb', verb, e.mac, 'dev', e.dev, 'dst', e.dst];
  if (e.vni !== undefined) a.push('vni', String(e.vni));
  if (e.port !== undefined) a.push('port', String(e.port));
  return a;
}

export function neighbourOps(plan: KeyedDiff<Neighbour>): IpOp[] {
  return [
    ...plan.add.map((n) => ({ args: neighArgs('add', n), undo: neighArgs('del', n) })),
    ...plan.change.map(({ from, to }) => ({ args: neighArgs('replace', to), undo: neighArgs('replace', from) })),
    ...plan.remove.map((n) => ({ args: neighArgs('del', n), undo: neighArgs('add', n) })),
  ];
}

export function fdbOps(plan: KeyedDiff<FdbEntry>): IpOp[] {
  return [
    ...plan.add.map((e) => ({ args: fdbArgs('append', e), undo: fdbArgs('del', e) })),
    // vni/port are part of the entry: replace = delete the old, append the new.
    ...plan.change.flatMap(({ from, to }) => [
      { args: fdbArgs('del', from), undo: fdbArgs('append', from) },
      { args: fdbArgs('append', to), undo: fdbArgs('del', to) },
    ]),
    ...plan.remove.map((e) => ({ args: fdbArgs('del', e), undo: fdbArgs('append', e) })),
  ];
}

export function parseNeighbours(json: unknown, command: string, netns: Netns): Neighbour[] {
  const rd: OutputReader = new OutputReader(command, netns);
  const out: Neighbour[] = [];
  rd.array(json, '').forEach((v, i) => {
    const p = `[${i}]`;
    const o = rd.object(v, p);
    const state = rd.stringArray(o, 'state', p);
    const lladdr = rd.optString(o, 'lladdr', p);
    const dev = rd.optString(o, 'dev', p);
    if (!state.includes('PERMANENT') || lladdr === undefined || dev === undefined) return;
    const dst = rd.string(o, 'dst', p);
    out.push({ dev, address: canonicalIp(dst) ?? dst, lladdr: lladdr.toLowerCase() });
  });
  return out;
}

/** Parses `bridge -j fdb show dev <dev>` (entries name no device when filtered by one). */
export function parseFdb(json: unknown, dev: string, command: string, netns: Netns): FdbEntry[] {
  const rd: OutputReader = new OutputReader(command, netns);
  const out: FdbEntry[] = [];
  rd.array(json, '').forEach((v, i) => {
    const p = `[${i}]`;
    const o = rd.object(v, p);
    const dst = rd.optString(o, 'dst', p);
    if (dst === undefined || rd.optString(o, 'state', p) !== 'permanent') return;
    out.push({
      dev: rd.optString(o, 'ifname', p) ?? dev,
      mac: rd.string(o, 'mac', p).toLowerCase(),
      dst: canonicalIp(dst) ?? dst,
      vni: rd.optNumber(o, 'vni', p),
      port: rd.optNumber(o, 'port', p),
    });
  });
  return out;
}

export class IpNeighbours implements NeighboursPort {
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner = defaultCommandRunner()) {
    this.#runner = runner;
  }

  async #owned(netns: Netns, owner: string): Promise<Link[]> {
    const args = ['-d', '-j', 'link', 'show'];
    const links = parseLinks(await runJson(this.#runner, 'ip', args, netns ? { netns } : {}), `ip ${args.join(' ')}`, netns);
    return links.filter((l) => l.owner === owner);
  }

  async #neighbours(netns: Netns, links: readonly Link[]): Promise<Neighbour[]> {
    const names = new Set(links.map((l) => l.name));
    const args = ['-j', 'neigh', 'show', 'nud', 'permanent'];
    const json = await runJson(this.#runner, 'ip', args, netns ? { netns } : {});
    return parseNeighbours(json, `ip ${args.join(' ')}`, netns).filter((n) => names.has(n.dev));
  }

  async #fdb(netns: Netns, links: readonly Link[]): Promise<FdbEntry[]> {
    const out: FdbEntry[] = [];
    for (const l of links) {
      if (l.kind !== 'vxlan') continue;
      const args = ['-j', 'fdb', 'show', 'dev', l.name];
      const json = await runJson(this.#runner, 'bridge', args, netns ? { netns } : {});
      for (const entry of parseFdb(json, l.name, `bridge ${args.join(' ')}`, netns)) {
        // The link's own default destination (`remote` at creation) belongs to the link.
        if (entry.mac === '00:00:00:00:00:00' && entry.dst === l.vxlan?.remote) continue;
        out.push(entry);
      }
    }
    return out;
  }

  async listNeighbours(netns: Netns, scope: LinkScope): Promise<Neighbour[]> {
    return this.#neighbours(netns, await this.#owned(netns, scope.owner));
  }

  async applyNeighbours(netns: Netns, desired: readonly NeighbourSpec[], scope: LinkScope): Promise<ApplyReport> {
    const links = await this.#owned(netns, scope.owner);
    const want = normalizeNeighbours(desired, new Set(links.map((l) => l.name)));
    const plan = planNeighbours(await this.#neighbours(netns, links), want);
    if (isEmptyDiff(plan)) return report(0, 0, 0, plan.unchanged.length, 0);
    await runIpTransaction(this.#runner, netns, neighbourOps(plan));
    return report(plan.add.length, plan.remove.length, plan.change.length, plan.unchanged.length, 1);
  }

  async listFdb(netns: Netns, scope: LinkScope): Promise<FdbEntry[]> {
    return this.#fdb(netns, await this.#owned(netns, scope.owner));
  }

  async applyFdb(netns: Netns, desired: readonly FdbSpec[], scope: LinkScope): Promise<ApplyReport> {
    const links = await this.#owned(netns, scope.owner);
    const vx = new Set(links.filter((l) => l.kind === 'vxlan').map((l) => l.name));
    const want = normalizeFdb(desired, vx);
    const plan = planFdb(await this.#fdb(netns, links), want);
    if (isEmptyDiff(plan)) return report(0, 0, 0, plan.unchanged.length, 0);
    await runIpTransaction(this.#runner, netns, fdbOps(plan), 'bridge');
    return report(plan.add.length, plan.remove.length, plan.change.length, plan.unchanged.length, 1);
  }
}
