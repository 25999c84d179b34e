import { FakeNetwork, HOST } from '@strait/net';
import { describe, expect, it } from 'vitest';
import type { ActiveGateway } from './active-gateway.ts';
import { RouteDatapath } from './datapath.ts';
import { MSS_TABLE, ROUTE_PROTO, type OverlaySettings } from './desired.ts';
import { NodeRouter, type Transition } from './router.ts';

const overlay: OverlaySettings = { vni: 4800, port: 4800, mtu: 1450, overlayCidr: '240.0.0.0/8', mss: 'pmtu' };
const G1: ActiveGateway = { kind: 'resolved', node: 'g1', ip: '192.168.1.2', holder: 'g1', source: 'lease' };
const G2: ActiveGateway = { kind: 'resolved', node: 'g2', ip: '192.168.1.3', holder: 'g2', source: 'lease' };
const REMOTE = ['10.2.0.0/16'];

function setup(nodeName: string, nodeIp: string, underlayRpFilter = '0') {
  const net = new FakeNetwork();
  net.state.ns(HOST).sysctl.set('net/ipv4/conf/eth0/rp_filter', underlayRpFilter);
  const transitions: Transition[] = [];
  const datapath = new RouteDatapath({ ports: net, underlayDevice: async () => 'eth0' });
  const router = new NodeRouter({ nodeName, nodeIp, overlay, datapath, handlers: { onTransition: (t) => transitions.push(t) } });
  const routes = () => net.allRoutes(HOST).filter((r) => r.proto === ROUTE_PROTO).map((r) => `${r.route.dst} via ${r.route.via} dev ${r.route.dev}`);
  const fdb = async () => (await net.neighbours.listFdb(HOST, { owner: 'route-agent' })).map((e) => `${e.mac} dst ${e.dst}`);
  return { net, router, transitions, routes, fdb, datapath };
}

describe('NodeRouter (role handlers) on the libs/net fake kernel', () => {
  it('a worker points at the active gateway, adopts on restart without a write, follows a failover (one Repointed)', async () => {
    const w = setup('w1', '192.168.1.4', '1');
    await w.router.sync({ gateway: G1, remoteCidrs: REMOTE });
    expect(w.routes()).toEqual(['10.2.0.0/16 via 240.168.1.2 dev vx-strait']);
    expect(await w.fdb()).toEqual(['00:00:00:00:00:00 dst 192.168.1.2']);
    expect((await w.net.links.get(HOST, 'vx-strait'))?.alias).toBe('strait:route-agent');
    expect(w.net.state.ns(HOST).sysctl.get('net/ipv4/conf/eth0/rp_filter')).toBe('2');
    expect(w.net.state.ns(HOST).sysctl.get('net/ipv4/conf/vx-strait/rp_filter')).toBe('2');
    expect(await w.net.nft.read(HOST, 'inet', MSS_TABLE)).toBeDefined();
    expect(w.transitions).toEqual([]);

    // A restarted process (new router, same kernel) adopts: no write.
    const before = w.net.writes;
    const again = new NodeRouter({ nodeName: 'w1', nodeIp: '192.168.1.4', overlay, datapath: w.datapath, handlers: { onTransition: () => undefined } });
    await again.sync({ gateway: G1, remoteCidrs: REMOTE, force: true });
    expect(w.net.writes).toBe(before);

    await w.router.sync({ gateway: G2, remoteCidrs: REMOTE, detectedAt: performance.now() });
    expect(w.routes()).toEqual(['10.2.0.0/16 via 240.168.1.3 dev vx-strait']);
    expect(await w.fdb()).toEqual(['00:00:00:00:00:00 dst 192.168.1.3']);
    expect(w.transitions.map((t) => [t.kind, t.from, t.to])).toEqual([['Repointed', 'g1', 'g2']]);
    expect(w.transitions[0]!.seconds).toBeGreaterThanOrEqual(0);
  });

  it('a gateway node: BecameGateway withdraws its overlay routes and fdb entry (tunnel-operator\'s rules take over), StoppedBeingGateway points it at the new one', async () => {
    const g = setup('g2', '192.168.1.3');
    await g.router.sync({ gateway: G1, remoteCidrs: REMOTE });
    expect(g.routes()).toHaveLength(1);
    const ifindex = (await g.net.links.get(HOST, 'vx-strait'))?.ifindex;
    await g.router.sync({ gateway: G2, remoteCidrs: REMOTE });
    expect(g.routes()).toEqual([]);
    expect(await g.fdb()).toEqual([]);
    expect((await g.net.links.get(HOST, 'vx-strait'))?.ifindex).toBe(ifindex);
    expect(g.net.allRules(HOST)).toEqual([]);
    expect(g.net.allRoutes(HOST).some((r) => r.route.table === 18952)).toBe(false);
    await g.router.sync({ gateway: G1, remoteCidrs: REMOTE });
    expect(g.routes()).toEqual(['10.2.0.0/16 via 240.168.1.2 dev vx-strait']);
    expect((await g.net.links.get(HOST, 'vx-strait'))?.ifindex).toBe(ifindex);
    expect(g.transitions.map((t) => [t.kind, t.from, t.to, t.role])).toEqual([
      ['BecameGateway', 'g1', 'g2', 'gateway'],
      ['StoppedBeingGateway', 'g2', 'g1', 'non-gateway'],
    ]);
  });

  it('an unresolved gateway keeps the last known one; remote CIDR changes apply without a transition', async () => {
    const w = setup('w1', '192.168.1.4');
    await w.router.sync({ gateway: G1, remoteCidrs: REMOTE });
    await w.router.sync({ gateway: { kind: 'unresolved', reason: 'x', holder: 'p', node: 'g9' }, remoteCidrs: [...REMOTE, '10.3.0.0/16'] });
    expect(w.routes()).toEqual(['10.2.0.0/16 via 240.168.1.2 dev vx-strait', '10.3.0.0/16 via 240.168.1.2 dev vx-strait']);
    expect(w.transitions).toEqual([]);
    await w.router.sync({ gateway: { kind: 'none' }, remoteCidrs: REMOTE });
    expect(w.routes()).toEqual([]);
  });

  it('leaves foreign routes alone, and uninstall removes exactly its own state', async () => {
    const w = setup('w1', '192.168.1.4');
    w.net.seedRoute(HOST, { dst: '10.2.0.0/16', via: '192.168.1.9', metric: 50 });
    w.net.seedRoute(HOST, { dst: '10.2.0.0/16', via: '192.168.1.9', table: 18952 }, 201);
    await w.router.sync({ gateway: G1, remoteCidrs: REMOTE });
    expect(w.net.allRoutes(HOST)).toHaveLength(3);
    const r = await w.datapath.uninstall();
    expect(r).toMatchObject({ routes: 1, links: 1 });
    expect(w.net.allRoutes(HOST).map((x) => x.proto).sort()).toEqual([201, 4]);
    expect(await w.net.links.get(HOST, 'vx-strait')).toBeUndefined();
    expect(await w.net.nft.read(HOST, 'inet', MSS_TABLE)).toBeUndefined();
    expect((await w.datapath.uninstall()).writes).toBe(0);
  });
});
