import { report, type ApplyReport, type Netns } from '../apply-report.ts';
import { planLinks, type Link, type LinkScope, type LinkSpec, type LinksPort, type VxlanSpec } from '../links.ts';
import { canonicalIp } from '../ip-address.ts';
import { ownerAlias } from '../ownership.ts';
import { checkIfName } from '../validate.ts';
import type { FakeNamespace, FakeState } from './state.ts';

const DEFAULT_MTU: Record<string, number> = { vxlan: 1450, wireguard: 1420 };

export class FakeLinks implements LinksPort {
  readonly #s: FakeState;
  /** veth pairs across namespaces: `${ns}/${name}` → `${ns}/${name}` */
  readonly #pairs = new Map<string, string>();

  constructor(state: FakeState) {
    this.#s = state;
  }

  async list(netns: Netns): Promise<Link[]> {
    return [...this.#s.ns(netns).links.values()];
  }

  async get(netns: Netns, name: string): Promise<Link | undefined> {
    checkIfName('name', name);
    return this.#s.ns(netns).links.get(name);
  }

  async apply(netns: Netns, desired: readonly LinkSpec[], scope: LinkScope): Promise<ApplyReport> {
    const ns = this.#s.ns(netns);
    const plan = planLinks([...ns.links.values()], desired, scope.owner, netns);
    if (plan.ops.length === 0) return report(0, 0, 0, plan.unchanged, 0);
    for (const s of plan.creates) if (s.peer?.netns !== undefined) this.#s.ns(s.peer.netns);
    this.#s.writeOps(netns, 'ip', plan.ops);
    const alias = ownerAlias(scope.owner);
    const byName = new Map(desired.map((d) => [d.name, d]));
    for (const l of plan.deletes) this.#delete(netns, ns, l.name);
    for (const { from, to } of plan.recreates) {
      this.#delete(netns, ns, from.name);
      this.#create(netns, ns, to, alias, byName);
    }
    for (const s of plan.creates) this.#create(netns, ns, s, alias, byName);
    for (const { to } of [...plan.adopts, ...plan.updates]) {
      const cur = ns.links.get(to.name) as Link;
      ns.links.set(to.name, { ...cur, alias: cur.peerEnd ? `${alias}/peer` : alias, owner: scope.owner, mtu: to.mtu ?? cur.mtu, up: to.up ?? true, master: to.master });
    }
    for (const l of plan.releases) ns.links.set(l.name, { ...l, alias: undefined, owner: undefined });
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

  /** Test helper: a link that Strait did not create (a physical NIC, another tool's device). */
  seed(netns: Netns, link: Partial<Link> & { name: string }): Link {
    const l: Link = {
      ifindex: this.#s.ifindex(),
      kind: undefined,
      mtu: 1500,
      up: true,
      operstate: 'UP',
      master: undefined,
      alias: undefined,
      owner: undefined,
      mac: undefined,
      peer: undefined,
      vxlan: undefined,
      ...link,
    };
    this.#s.ns(netns).links.set(l.name, l);
    return l;
  }

  #create(netns: Netns, ns: FakeNamespace, s: LinkSpec, alias: string, byName: Map<string, LinkSpec>): void {
    const owner = alias.slice('strait:'.length);
    const base = (name: string, kind: string, mtu: number | undefined, up: boolean, master: string | undefined): Link => ({
      ifindex: this.#s.ifindex(),
      name,
      kind,
      mtu: mtu ?? DEFAULT_MTU[kind] ?? 1500,
      up,
      operstate: up ? 'UP' : 'DOWN',
      master,
      alias,
      owner,
      mac: undefined,
      peer: undefined,
      vxlan: undefined,
    });
    const link = base(s.name, s.kind, s.mtu, s.up ?? true, s.master);
    if (s.kind === 'vxlan') {
      const v = s.vxlan as VxlanSpec;
      ns.links.set(s.name, {
        ...link,
        vxlan: {
          vni: v.vni,
          local: v.local === undefined ? undefined : canonicalIp(v.local),
          remote: v.remote === undefined ? undefined : canonicalIp(v.remote),
          group: v.group === undefined ? undefined : canonicalIp(v.group),
          dstport: v.dstport ?? 4789,
          dev: v.dev,
          learning: v.learning ?? false,
          ttl: v.ttl ?? 0,
        },
      });
      return;
    }
    if (s.kind === 'veth' && s.peer) {
      const peerNs = s.peer.netns === undefined ? ns : this.#s.ns(s.peer.netns);
      const peerSpec = s.peer.netns === undefined ? byName.get(s.peer.name) : undefined;
      const peer = { ...base(s.peer.name, 'veth', peerSpec?.mtu ?? s.mtu, peerSpec ? (peerSpec.up ?? true) : false, peerSpec?.master), alias: `${alias}/peer`, peerEnd: true };
      const same = s.peer.netns === undefined;
      ns.links.set(s.name, { ...link, peer: same ? s.peer.name : undefined });
      peerNs.links.set(s.peer.name, { ...peer, peer: same ? s.name : undefined });
      this.#pairs.set(`${netns ?? ''}/${s.name}`, `${s.peer.netns ?? netns ?? ''}/${s.peer.name}`);
      this.#pairs.set(`${s.peer.netns ?? netns ?? ''}/${s.peer.name}`, `${netns ?? ''}/${s.name}`);
      return;
    }
    ns.links.set(s.name, link);
  }

  #delete(netns: Netns, ns: FakeNamespace, name: string): void {
    const key = `${netns ?? ''}/${name}`;
    this.#removeFrom(ns, name);
    const other = this.#pairs.get(key);
    if (other) {
      const slash = other.lastIndexOf('/');
      const otherNs = this.#s.namespaces.get(other.slice(0, slash));
      if (otherNs) this.#removeFrom(otherNs, other.slice(slash + 1));
      this.#pairs.delete(other);
      this.#pairs.delete(key);
    }
  }

  #removeFrom(ns: FakeNamespace, name: string): void {
    ns.links.delete(name);
    ns.addresses = ns.addresses.filter((a) => a.dev !== name);
    ns.routes = ns.routes.filter((r) => r.route.dev !== name);
    ns.neighbours = ns.neighbours.filter((n) => n.dev !== name);
    ns.fdb = ns.fdb.filter((e) => e.dev !== name);
  }
}
