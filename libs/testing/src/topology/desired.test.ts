import { describe, expect, it } from 'vitest';
import { ROUTER_SYSCTLS, TOPOLOGY_OWNER, TOPOLOGY_ROUTE_PROTO, desiredState } from './desired.ts';
import { planTopology } from './plan.ts';

const plan = planTopology({
  runId: 'tdes',
  clusters: [
    { name: 'a', podCIDR: '10.0.0.0/16', podsPerNode: 2, externalHosts: { cidr: '203.0.113.0/24' } },
    { name: 'b', podCIDR: '10.0.0.0/16', gateways: 1, workers: 0 },
  ],
});
const d = desiredState(plan);
const byNs = (list: typeof d.nodes, ns: string) => list.find((x) => x.netns === ns);

describe('topology desired state', () => {
  it('uses an owner and a route protocol of its own, so Strait never sees them as its objects', () => {
    expect(TOPOLOGY_OWNER).toBe('topology');
    expect(TOPOLOGY_ROUTE_PROTO).not.toBe(201);
  });

  it('covers every namespace exactly once, in three phases', () => {
    const all = [...d.switches, ...d.nodes, ...d.leaves].map((x) => x.netns).sort();
    expect(all).toEqual([...plan.namespaces].sort());
    expect(d.switches.map((x) => x.netns)).toEqual(['tdes-wan', 'tdes-a-sw', 'tdes-b-sw']);
  });

  it('switches: a bridge and one port per node (and external host), each far end in its namespace', () => {
    const sw = byNs(d.switches, 'tdes-a-sw');
    expect(sw?.links).toEqual([
      { name: 'tdes-br', kind: 'bridge' },
      { name: 'tdes-1g1s', kind: 'veth', master: 'tdes-br', peer: { name: 'tdes-1g1', netns: 'tdes-a-g1' } },
      { name: 'tdes-1g2s', kind: 'veth', master: 'tdes-br', peer: { name: 'tdes-1g2', netns: 'tdes-a-g2' } },
      { name: 'tdes-1w1s', kind: 'veth', master: 'tdes-br', peer: { name: 'tdes-1w1', netns: 'tdes-a-w1' } },
      { name: 'tdes-1x1s', kind: 'veth', master: 'tdes-br', peer: { name: 'tdes-1x1', netns: 'tdes-a-x1' } },
    ]);
    expect(byNs(d.switches, 'tdes-wan')?.links.map((l) => [l.name, l.peer?.netns])).toEqual([
      ['tdes-br', undefined],
      ['tdes-1g1ws', 'tdes-a-g1'],
      ['tdes-1g2ws', 'tdes-a-g2'],
      ['tdes-2g1ws', 'tdes-b-g1'],
    ]);
  });

  it('nodes: forwarding, loose rp_filter, pod veths with /32 routes, host-gw routes to the other nodes', () => {
    const g1 = byNs(d.nodes, 'tdes-a-g1');
    expect(g1?.sysctl).toEqual(ROUTER_SYSCTLS);
    expect(ROUTER_SYSCTLS).toEqual({ 'net.ipv4.ip_forward': 1, 'net/ipv4/conf/all/rp_filter': 2, 'net/ipv4/conf/default/rp_filter': 2 });
    expect(g1?.addresses).toEqual([
      { dev: 'tdes-1g1', address: '192.168.1.1/24' },
      { dev: 'tdes-1g1w', address: '172.31.0.1/24' },
      { dev: 'tdes-1g1p1h', address: '10.0.0.1/32' },
      { dev: 'tdes-1g1p2h', address: '10.0.0.1/32' },
    ]);
    expect(g1?.routes).toEqual([
      { dst: '10.0.0.2/32', dev: 'tdes-1g1p1h' },
      { dst: '10.0.0.3/32', dev: 'tdes-1g1p2h' },
      { dst: '10.0.1.0/24', via: '192.168.1.2', dev: 'tdes-1g1' },
      { dst: '10.0.2.0/24', via: '192.168.1.3', dev: 'tdes-1g1' },
      { dst: '203.0.113.0/24', dev: 'tdes-1g1' },
    ]);
    const w1 = byNs(d.nodes, 'tdes-a-w1');
    expect(w1?.links.some((l) => l.name.endsWith('w'))).toBe(false);
    expect(w1?.addresses.some((a) => a.address.startsWith('172.31.'))).toBe(false);
    // No route leaves the cluster: nothing for the WAN beyond its connected subnet, no default route.
    for (const n of d.nodes) expect(n.routes.some((r) => r.dst === 'default')).toBe(false);
    // Cluster b's only node has no other node to route to.
    expect(byNs(d.nodes, 'tdes-b-g1')?.routes).toEqual([{ dst: '10.0.0.2/32', dev: 'tdes-2g1p1h' }]);
  });

  it('pods: a /32 and a default route via the node side; external hosts: node network and pod slices', () => {
    expect(byNs(d.leaves, 'tdes-a-g2-p2')).toEqual({
      netns: 'tdes-a-g2-p2',
      links: [{ name: 'tdes-1g2p2', kind: 'veth', peer: { name: 'tdes-1g2p2h', netns: 'tdes-a-g2' } }],
      addresses: [{ dev: 'tdes-1g2p2', address: '10.0.1.3/32' }],
      routes: [{ dst: 'default', via: '10.0.1.1', dev: 'tdes-1g2p2', onlink: true }],
      sysctl: {},
    });
    const x = byNs(d.leaves, 'tdes-a-x1');
    expect(x?.addresses).toEqual([{ dev: 'tdes-1x1', address: '203.0.113.1/24' }]);
    expect(x?.routes).toEqual([
      { dst: '192.168.1.0/24', dev: 'tdes-1x1' },
      { dst: '10.0.0.0/24', via: '192.168.1.1', dev: 'tdes-1x1', onlink: true },
      { dst: '10.0.1.0/24', via: '192.168.1.2', dev: 'tdes-1x1', onlink: true },
      { dst: '10.0.2.0/24', via: '192.168.1.3', dev: 'tdes-1x1', onlink: true },
    ]);
  });
});
