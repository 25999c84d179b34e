import { report, type ApplyReport, type Netns } from './apply-report.ts';
import { defaultCommandRunner, runJson, type CommandRunner } from './exec.ts';
import { runIpTransaction, type IpOp } from './ip-batch.ts';
import { canonicalIp, ipFamily } from './ip-address.ts';
import { isPeerAlias, ownerAlias, ownerOfAlias, peerAlias } from './ownership.ts';
import { NetSpecError, OutputReader, checkIfName, checkInt, checkNetnsName } from './validate.ts';

/**
 * Network links, owned by their alias `strait:<owner>`.
 *
 * Kinds Strait creates: veth (the peer may go to another namespace), vxlan, wireguard (kernel
 * module), dummy, bridge. `tun` links are created by a userspace daemon (wireguard-go,
 * strongSwan's kernel-libipsec): Strait ADOPTS them (sets its alias, mtu, up) and, when they are no
 * longer desired, RELEASES them (clears the alias) instead of deleting them. Any other existing link
 * can be adopted with `adopt: true` when its kind matches.
 *
 * Apply order (see ip-batch.ts): creations, then attribute changes, then releases, then
 * deletions and recreations. Everything before the deletions rolls back on failure; a deleted link
 * cannot be restored as it was (its ifindex and addresses are gone), so deletions come last.
 */

export const LINK_KINDS = ['veth', 'vxlan', 'wireguard', 'dummy', 'bridge', 'tun'] as const;
export type LinkKind = (typeof LINK_KINDS)[number];

export interface VethPeerSpec {
  readonly name: string;
  /** Namespace the peer goes to (default: the same namespace). */
  readonly netns?: string;
}

export interface VxlanSpec {
  readonly vni: number;
  readonly local?: string;
  /** Unicast remote (point to point); or use `group`; or neither and fill the fdb (neighbours.ts). */
  readonly remote?: string;
  readonly group?: string;
  /** UDP port, default 4789. */
  readonly dstport?: number;
  /** Underlay device. */
  readonly dev?: string;
  /** MAC learning, default false (Strait programs the fdb). */
  readonly learning?: boolean;
  readonly ttl?: number;
}

export interface LinkSpec {
  readonly name: string;
  readonly kind: LinkKind;
  readonly mtu?: number;
  /** Administrative state, default up. */
  readonly up?: boolean;
  /** Bridge to enslave to. */
  readonly master?: string;
  /** Take over an existing link of the same kind that has no Strait alias. Implied for `tun`. */
  readonly adopt?: boolean;
  readonly peer?: VethPeerSpec;
  readonly vxlan?: VxlanSpec;
}

export interface VxlanInfo {
  readonly vni: number;
  readonly local: string | undefined;
  readonly remote: string | undefined;
  readonly group: string | undefined;
  readonly dstport: number;
  readonly dev: string | undefined;
  readonly learning: boolean;
  readonly ttl: number;
}

/** A link as read from `ip -d -j link show`. */
export interface Link {
  readonly ifindex: number;
  readonly name: string;
  /** `linkinfo.info_kind`; undefined for physical devices and loopback. */
  readonly kind: string | undefined;
  readonly mtu: number;
  readonly up: boolean;
  readonly operstate: string | undefined;
  readonly master: string | undefined;
  readonly alias: string | undefined;
  /** Strait owner from the alias, if any. */
  readonly owner: string | undefined;
  /** The second end of a Strait veth (alias `strait:<owner>/peer`): never deleted on its own. */
  readonly peerEnd?: boolean;
  readonly mac: string | undefined;
  /** The other end of a veth when it is in the same namespace. */
  readonly peer: string | undefined;
  readonly vxlan: VxlanInfo | undefined;
}

export interface LinkScope {
  /** Strait component that owns the links (`tunnel-operator`, `route-agent`, a test's name). */
  readonly owner: string;
}

export interface LinksPort {
  /** Every link in the namespace (Strait's and others), validated. */
  list(netns: Netns): Promise<Link[]>;
  get(netns: Netns, name: string): Promise<Link | undefined>;
  /** Makes this owner's links exactly `desired` (see the module comment for the order). */
  apply(netns: Netns, desired: readonly LinkSpec[], scope: LinkScope): Promise<ApplyReport>;
  /** Deletes (tun: releases) every link of this owner. */
  deleteOwned(netns: Netns, scope: LinkScope): Promise<ApplyReport>;
}

/** A conflict with an object Strait does not own: nothing was changed. */
export class NetOwnershipConflict extends Error {
  override readonly name = 'NetOwnershipConflict';
}

export function normalizeLinks(desired: readonly LinkSpec[], what = 'links'): LinkSpec[] {
  const seen = new Map<string, number>();
  return desired.map((s, i) => {
    const f = `${what}[${i}]`;
    if (typeof s !== 'object' || s === null) throw new NetSpecError(f, 'must be an object');
    const name = checkIfName(`${f}.name`, s.name);
    const prev = seen.get(name);
    if (prev !== undefined) throw new NetSpecError(`${f}.name`, `${name} duplicates ${what}[${prev}]`);
    seen.set(name, i);
    if (!LINK_KINDS.includes(s.kind)) throw new NetSpecError(`${f}.kind`, `${JSON.stringify(s.kind)} is not one of ${LINK_KINDS.join(', ')}`);
    if (s.mtu !== undefined) checkInt(`${f}.mtu`, s.mtu, 68, 65535);
    if (s.master !== undefined) checkIfName(`${f}.master`, s.master);
    if (s.kind === 'veth') {
      if (!s.peer) throw new NetSpecError(`${f}.peer`, 'a veth needs a peer');
      checkIfName(`${f}.peer.name`, s.peer.name);
      if (s.peer.netns !== undefined) checkNetnsName(`${f}.peer.netns`, s.peer.netns);
      if (s.peer.netns === undefined && s.peer.name === name) throw new NetSpecError(`${f}.peer.name`, 'must differ from the link name');
    } else if (s.peer !== undefined) {
      throw new NetSpecError(`${f}.peer`, `only a veth has a peer (kind is ${s.kind})`);
    }
    if (s.kind === 'vxlan') {
      const v = s.vxlan;
      if (!v) throw new NetSpecError(`${f}.vxlan`, 'a vxlan link needs vxlan settings (vni, ...)');
      checkInt(`${f}.vxlan.vni`, v.vni, 0, 0xffffff);
      if (v.dstport !== undefined) checkInt(`${f}.vxlan.dstport`, v.dstport, 1, 65535);
      if (v.ttl !== undefined) checkInt(`${f}.vxlan.ttl`, v.ttl, 0, 255);
      for (const k of ['local', 'remote', 'group'] as const) {
        const a = v[k];
        if (a !== undefined && !canonicalIp(a)) throw new NetSpecError(`${f}.vxlan.${k}`, `${JSON.stringify(a)} is not an IP address`);
      }
      if (v.remote !== undefined && v.group !== undefined) throw new NetSpecError(`${f}.vxlan`, 'give either remote or group, not both');
      if (v.group !== undefined && v.dev === undefined) throw new NetSpecError(`${f}.vxlan.dev`, 'a multicast group needs the underlay dev');
      if (v.dev !== undefined) checkIfName(`${f}.vxlan.dev`, v.dev);
      const fams = [v.local, v.remote, v.group].filter((a): a is string => a !== undefined).map((a) => ipFamily(a));
      if (new Set(fams).size > 1) throw new NetSpecError(`${f}.vxlan`, 'local, remote and group must be of one IP family');
    } else if (s.vxlan !== undefined) {
      throw new NetSpecError(`${f}.vxlan`, `only a vxlan link has vxlan settings (kind is ${s.kind})`);
    }
    return s;
  });
}

function wantedVxlan(v: VxlanSpec): VxlanInfo {
  return {
    vni: v.vni,
    local: v.local === undefined ? undefined : canonicalIp(v.local),
    remote: v.remote === undefined ? undefined : canonicalIp(v.remote),
    group: v.group === undefined ? undefined : canonicalIp(v.group),
    dstport: v.dstport ?? 4789,
    dev: v.dev,
    learning: v.learning ?? false,
    ttl: v.ttl ?? 0,
  };
}

function sameVxlan(a: VxlanInfo | undefined, b: VxlanInfo): boolean {
  return (
    a !== undefined &&
    a.vni === b.vni &&
    a.local === b.local &&
    a.remote === b.remote &&
    a.group === b.group &&
    a.dstport === b.dstport &&
    a.dev === b.dev &&
    a.learning === b.learning &&
    a.ttl === b.ttl
  );
}

/** Whether an existing link must be deleted and created again to match (kind or fixed attributes). */
function needsRecreate(cur: Link, want: LinkSpec): boolean {
  if (cur.kind !== want.kind) return true;
  if (want.kind === 'vxlan') return !sameVxlan(cur.vxlan, wantedVxlan(want.vxlan as VxlanSpec));
  return false;
}

export function createArgs(s: LinkSpec): string[] {
  const a = ['link', 'add', s.name];
  switch (s.kind) {
    case 'veth':
      a.push('type', 'veth', 'peer', 'name', (s.peer as VethPeerSpec).name);
      break;
    case 'vxlan': {
      const v = wantedVxlan(s.vxlan as VxlanSpec);
      a.push('type', 'vxlan', 'id', String(v.vni));
      if (v.local !== undefined) a.push('local', v.local);
      if (v.remote !== undefined) a.push('remote', v.remote);
      if (v.group !== undefined) a.push('group', v.group);
      a.push('dstport', String(v.dstport));
      if (v.dev !== undefined) a.push('dev', v.dev);
      a.push(v.learning ? 'learning' : 'nolearning');
      if (v.ttl !== 0) a.push('ttl', String(v.ttl));
      break;
    }
    case 'wireguard':
    case 'dummy':
    case 'bridge':
      a.push('type', s.kind);
      break;
    case 'tun':
      throw new NetSpecError(`link ${s.name}`, 'a tun link is created by its userspace daemon; Strait only adopts it');
  }
  return a;
}

interface SetAttrs {
  alias?: string;
  mtu?: number;
  up?: boolean;
  master?: string | null;
}

function setArgs(name: string, s: SetAttrs): string[] {
  const a = ['link', 'set', 'dev', name];
  if (s.alias !== undefined) a.push('alias', s.alias);
  if (s.mtu !== undefined) a.push('mtu', String(s.mtu));
  if (s.master === null) a.push('nomaster');
  else if (s.master !== undefined) a.push('master', s.master);
  if (s.up !== undefined) a.push(s.up ? 'up' : 'down');
  return a;
}

function hasAttrs(s: SetAttrs): boolean {
  return s.alias !== undefined || s.mtu !== undefined || s.up !== undefined || s.master !== undefined;
}

export interface LinkPlan {
  readonly creates: LinkSpec[];
  readonly adopts: { readonly from: Link; readonly to: LinkSpec }[];
  readonly updates: { readonly from: Link; readonly to: LinkSpec }[];
  readonly recreates: { readonly from: Link; readonly to: LinkSpec }[];
  readonly releases: Link[];
  readonly deletes: Link[];
  readonly unchanged: number;
  readonly ops: IpOp[];
}

/**
 * Computes the operations that make `owner`'s links in `current` exactly `desired`.
 * Throws {@link NetOwnershipConflict} (changing nothing) when a desired name is taken by a link
 * that is not this owner's and may not be adopted.
 */
export function planLinks(current: readonly Link[], desired: readonly LinkSpec[], owner: string, netns?: Netns): LinkPlan {
  const alias = ownerAlias(owner);
  const want = normalizeLinks(desired);
  const byName = new Map(current.map((l) => [l.name, l]));
  const desiredNames = new Set(want.map((l) => l.name));
  const where = netns ? ` in netns ${netns}` : '';

  const creates: LinkSpec[] = [];
  const adopts: { from: Link; to: LinkSpec }[] = [];
  const updates: { from: Link; to: LinkSpec }[] = [];
  const recreates: { from: Link; to: LinkSpec }[] = [];
  const releases: Link[] = [];
  const deletes: Link[] = [];
  let unchanged = 0;

  // A veth created here with its peer in this same namespace brings the peer into existence.
  const peersCreatedHere = new Set<string>();

  for (const s of want) {
    const cur = byName.get(s.name);
    if (cur === undefined) {
      if (peersCreatedHere.has(s.name)) continue;
      if (s.kind === 'tun') {
        throw new NetSpecError(`link ${s.name}`, `does not exist${where}: a tun link is created by its daemon (wireguard-go, charon), then adopted`);
      }
      creates.push(s);
      if (s.kind === 'veth' && s.peer?.netns === undefined && s.peer) {
        if (byName.has(s.peer.name)) {
          throw new NetOwnershipConflict(`link ${s.peer.name}${where} already exists: cannot create veth ${s.name} with that peer name`);
        }
        peersCreatedHere.add(s.peer.name);
      }
      continue;
    }
    if (cur.owner === owner) {
      if (cur.peerEnd && s.kind === 'veth') {
        // The second end of a pair: configure it, never recreate it from this side.
        if (hasAttrs(changedAttrs(cur, s, alias))) updates.push({ from: cur, to: s });
        else unchanged++;
        continue;
      }
      if (needsRecreate(cur, s)) {
        if (s.kind === 'tun') {
          throw new NetSpecError(`link ${s.name}`, `is a ${cur.kind ?? 'physical'} link, not a tun; Strait cannot create a tun`);
        }
        recreates.push({ from: cur, to: s });
      } else if (hasAttrs(changedAttrs(cur, s, alias))) updates.push({ from: cur, to: s });
      else unchanged++;
      continue;
    }
    if (cur.owner !== undefined) {
      throw new NetOwnershipConflict(`link ${s.name}${where} belongs to ${cur.alias}, not ${alias}: not touched`);
    }
    if ((s.adopt || s.kind === 'tun') && cur.kind === s.kind && !needsRecreate(cur, s)) {
      adopts.push({ from: cur, to: s });
      continue;
    }
    throw new NetOwnershipConflict(
      `link ${s.name}${where} exists (${cur.kind ?? 'physical'}) and is not Strait's${cur.alias ? ` (alias ${JSON.stringify(cur.alias)})` : ''}: Strait does not modify it${s.adopt || s.kind === 'tun' ? ` (kind differs: want ${s.kind})` : ''}`,
    );
  }
  // Validate references before anything runs (iproute2 exits mid-batch on an unknown device).
  const willExist = new Set([...current.map((l) => l.name), ...want.map((l) => l.name), ...peersCreatedHere]);
  want.forEach((s, i) => {
    const dev = s.vxlan?.dev;
    if (dev !== undefined && !willExist.has(dev)) throw new NetSpecError(`links[${i}].vxlan.dev`, `${dev} does not exist${where}`);
    if (s.master !== undefined && !willExist.has(s.master)) throw new NetSpecError(`links[${i}].master`, `${s.master} does not exist${where}`);
  });

  for (const l of current) {
    if (l.owner !== owner || desiredNames.has(l.name)) continue;
    if (l.peerEnd) continue; // goes away with the first end of its pair
    if (l.kind === 'tun') releases.push(l);
    // A veth whose other end is being deleted too goes away with it.
    else if (!(l.kind === 'veth' && l.peer !== undefined && deletes.some((d) => d.name === l.peer))) deletes.push(l);
  }

  const ops: IpOp[] = [];
  // Bridges first so that slaves can be enslaved in the same batch.
  const ordered = [...creates].sort((a, b) => Number(b.kind === 'bridge') - Number(a.kind === 'bridge'));
  for (const s of ordered) ops.push(...createOps(s, alias, want));
  for (const { from, to } of adopts) {
    const attrs = { ...changedAttrs(from, to, alias), alias };
    ops.push({ args: setArgs(to.name, attrs), undo: setArgs(to.name, undoAttrs(from, attrs)) });
  }
  for (const { from, to } of updates) {
    const attrs = changedAttrs(from, to, alias);
    ops.push({ args: setArgs(to.name, attrs), undo: setArgs(to.name, undoAttrs(from, attrs)) });
  }
  for (const l of releases) {
    ops.push({ args: setArgs(l.name, { alias: '' }), undo: setArgs(l.name, { alias: l.alias ?? '' }) });
  }
  // Upper devices before lower ones: the kernel deletes a vxlan together with its underlay device.
  const deleteOrder = (l: Link): number => (l.kind === 'vxlan' ? 0 : l.kind === 'bridge' ? 2 : 1);
  for (const l of [...deletes].sort((a, b) => deleteOrder(a) - deleteOrder(b))) {
    ops.push({ args: ['link', 'del', 'dev', l.name], undo: undefined });
  }
  for (const { from, to } of recreates) {
    ops.push({ args: ['link', 'del', 'dev', from.name], undo: undefined });
    ops.push(...createOps(to, alias, want).map((o) => ({ ...o, undo: undefined })));
  }
  return { creates, adopts, updates, recreates, releases, deletes, unchanged, ops };
}

function changedAttrs(cur: Link, s: LinkSpec, alias: string): SetAttrs {
  const a: SetAttrs = {};
  const wantAlias = cur.peerEnd && cur.owner !== undefined ? peerAlias(cur.owner) : alias;
  if (cur.alias !== wantAlias) a.alias = wantAlias;
  if (s.mtu !== undefined && cur.mtu !== s.mtu) a.mtu = s.mtu;
  const up = s.up ?? true;
  if (cur.up !== up) a.up = up;
  if ((s.master ?? undefined) !== cur.master) a.master = s.master ?? null;
  return a;
}

function undoAttrs(cur: Link, changed: SetAttrs): SetAttrs {
  const u: SetAttrs = {};
  if (changed.alias !== undefined) u.alias = cur.alias ?? '';
  if (changed.mtu !== undefined) u.mtu = cur.mtu;
  if (changed.master !== undefined) u.master = cur.master ?? null;
  if (changed.up !== undefined) u.up = cur.up;
  return u;
}

function createOps(s: LinkSpec, alias: string, all: readonly LinkSpec[]): IpOp[] {
  const ops: IpOp[] = [{ args: createArgs(s), undo: ['link', 'del', 'dev', s.name] }];
  if (s.kind === 'veth' && s.peer) {
    const peer = s.peer;
    const peerSpec = peer.netns === undefined ? all.find((l) => l.name === peer.name) : undefined;
    const mtu = peerSpec?.mtu ?? s.mtu;
    // Alias (and mtu) are set before the move: the alias travels with the device, so the peer
    // is Strait's in its namespace from the first moment.
    ops.push({ args: setArgs(peer.name, { alias: `${alias}/peer`, ...(mtu !== undefined ? { mtu } : {}) }), undo: [] });
    if (peer.netns !== undefined) {
      ops.push({ args: ['link', 'set', 'dev', peer.name, 'netns', peer.netns], undo: [] });
    } else if (peerSpec) {
      const attrs: SetAttrs = { up: peerSpec.up ?? true, ...(peerSpec.master ? { master: peerSpec.master } : {}) };
      ops.push({ args: setArgs(peer.name, attrs), undo: [] });
    }
  }
  const attrs: SetAttrs = { alias, up: s.up ?? true };
  if (s.mtu !== undefined) attrs.mtu = s.mtu;
  if (s.master !== undefined) attrs.master = s.master;
  ops.push({ args: setArgs(s.name, attrs), undo: [] });
  return ops;
}

/** Parses `ip -d -j link show`. */
export function parseLinks(json: unknown, command: string, netns: Netns): Link[] {
  const rd: OutputReader = new OutputReader(command, netns);
  return rd.array(json, '').map((v, i) => {
    const p = `[${i}]`;
    const o = rd.object(v, p);
    const flags = rd.stringArray(o, 'flags', p);
    let kind: string | undefined;
    let vxlan: VxlanInfo | undefined;
    if (o['linkinfo'] !== undefined) {
      const li = rd.object(o['linkinfo'], `${p}.linkinfo`);
      kind = rd.optString(li, 'info_kind', `${p}.linkinfo`);
      if (kind === 'vxlan' && li['info_data'] !== undefined) {
        const dp = `${p}.linkinfo.info_data`;
        const d = rd.object(li['info_data'], dp);
        const ip = (k: string): string | undefined => {
          const s = rd.optString(d, k, dp);
          return s === undefined ? undefined : (canonicalIp(s) ?? s);
        };
        vxlan = {
          vni: rd.number(d, 'id', dp),
          local: ip('local') ?? ip('local6'),
          remote: ip('remote') ?? ip('remote6'),
          group: ip('group') ?? ip('group6'),
          dstport: rd.optNumber(d, 'port', dp) ?? 4789,
          dev: rd.optString(d, 'link', dp),
          learning: d['learning'] === true,
          ttl: rd.optNumber(d, 'ttl', dp) ?? 0,
        };
      }
    }
    const alias = rd.optString(o, 'ifalias', p);
    return {
      ifindex: rd.number(o, 'ifindex', p),
      name: rd.string(o, 'ifname', p),
      kind,
      mtu: rd.number(o, 'mtu', p),
      up: flags.includes('UP'),
      operstate: rd.optString(o, 'operstate', p),
      master: rd.optString(o, 'master', p),
      alias,
      owner: ownerOfAlias(alias),
      peerEnd: isPeerAlias(alias),
      mac: rd.optString(o, 'address', p),
      peer: kind === 'veth' && o['link_netnsid'] === undefined ? rd.optString(o, 'link', p) : undefined,
      vxlan,
    };
  });
}

export class IpLinks implements LinksPort {
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner = defaultCommandRunner()) {
    this.#runner = runner;
  }

  async list(netns: Netns): Promise<Link[]> {
    const args = ['-d', '-j', 'link', 'show'];
    const json = await runJson(this.#runner, 'ip', args, netns ? { netns } : {});
    return parseLinks(json, `ip ${args.join(' ')}`, netns);
  }

  async get(netns: Netns, name: string): Promise<Link | undefined> {
    checkIfName('name', name);
    return (await this.list(netns)).find((l) => l.name === name);
  }

  async apply(netns: Netns, desired: readonly LinkSpec[], scope: LinkScope): Promise<ApplyReport> {
    const plan = planLinks(await this.list(netns), desired, scope.owner, netns);
    if (plan.ops.length === 0) return report(0, 0, 0, plan.unchanged, 0);
    await runIpTransaction(this.#runner, netns, plan.ops);
    return report(
      plan.creates.length + plan.adopts.length,
      plan.deletes.length + plan.releases.length,
      plan.updates.length + plan.recreates.length,
      plan.unchanged,
      1,
    );
  }

  deleteOwned(netns: Netns, scope: LinkScope): Promise<ApplyReport> {
    return this.apply(netns, [], scope);
  }
}
