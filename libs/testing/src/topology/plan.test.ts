import { describe, expect, it } from 'vitest';
import { MAX_IFNAME } from './names.ts';
import { TopologySpecError, allNodes, allPods, clusterOfNetns, ipInCidr, namespacesOfIp, planTopology } from './plan.ts';
import type { TopologySpec } from './types.ts';

const spec = (over: Partial<TopologySpec> = {}): TopologySpec => ({
  runId: 'tplan',
  clusters: [
    { name: 'a', podCIDR: '10.0.0.0/16' },
    { name: 'b', podCIDR: '10.0.0.0/16' },
    { name: 'c', podCIDR: '10.1.0.0/16', externalHosts: { cidr: '203.0.113.0/24', count: 2 } },
  ],
  ...over,
});

function specError(s: TopologySpec): TopologySpecError {
  try {
    planTopology(s);
  } catch (e) {
    expect(e).toBeInstanceOf(TopologySpecError);
    return e as TopologySpecError;
  }
  throw new Error('expected a TopologySpecError');
}

describe('topology address plan', () => {
  it('applies the defaults: 2 gateways, 1 worker, 1 pod per node, 192.168.<n>.0/24, WAN 172.31.0.0/24', () => {
    const p = planTopology(spec());
    expect(p.runId).toBe('tplan');
    expect(p.wan).toEqual({ cidr: '172.31.0.0/24', netns: 'tplan-wan', bridge: 'tplan-br' });
    const a = p.clusters[0];
    expect(a?.nodes.map((n) => [n.name, n.role, n.ip, n.podCIDR, n.wan?.ip])).toEqual([
      ['a-g1', 'gateway', '192.168.1.1', '10.0.0.0/24', '172.31.0.1'],
      ['a-g2', 'gateway', '192.168.1.2', '10.0.1.0/24', '172.31.0.2'],
      ['a-w1', 'worker', '192.168.1.3', '10.0.2.0/24', undefined],
    ]);
    expect(a?.nodeCIDR).toBe('192.168.1.0/24');
    expect(p.clusters[2]?.nodeCIDR).toBe('192.168.3.0/24');
    // WAN addresses continue across clusters.
    expect(p.clusters.flatMap((c) => c.gateways.map((g) => g.wan?.ip))).toEqual([
      '172.31.0.1',
      '172.31.0.2',
      '172.31.0.3',
      '172.31.0.4',
      '172.31.0.5',
      '172.31.0.6',
    ]);
    expect(a?.pods).toEqual([
      { name: 'a-g1-p1', cluster: 'a', node: 'a-g1', index: 1, netns: 'tplan-a-g1-p1', ip: '10.0.0.2', ifname: 'tplan-1g1p1', hostIfname: 'tplan-1g1p1h', gatewayIp: '10.0.0.1' },
      { name: 'a-g2-p1', cluster: 'a', node: 'a-g2', index: 1, netns: 'tplan-a-g2-p1', ip: '10.0.1.2', ifname: 'tplan-1g2p1', hostIfname: 'tplan-1g2p1h', gatewayIp: '10.0.1.1' },
      { name: 'a-w1-p1', cluster: 'a', node: 'a-w1', index: 1, netns: 'tplan-a-w1-p1', ip: '10.0.2.2', ifname: 'tplan-1w1p1', hostIfname: 'tplan-1w1p1h', gatewayIp: '10.0.2.1' },
    ]);
  });

  it('lets clusters share a pod CIDR (same addresses, different namespaces and links)', () => {
    const p = planTopology(spec());
    const [a, b] = p.clusters;
    expect(a?.pods.map((x) => x.ip)).toEqual(b?.pods.map((x) => x.ip));
    expect(namespacesOfIp(p, '10.0.0.2')).toEqual(['tplan-a-g1-p1', 'tplan-b-g1-p1']);
    expect(namespacesOfIp(p, '10.1.0.2')).toEqual(['tplan-c-g1-p1']);
    expect(namespacesOfIp(p, '172.31.0.3')).toEqual(['tplan-b-g1']);
    expect(namespacesOfIp(p, '10.9.9.9')).toEqual([]);
    expect(clusterOfNetns(p, 'tplan-b-g1-p1')).toBe('b');
    expect(clusterOfNetns(p, 'tplan-c-x2')).toBe('c');
    expect(clusterOfNetns(p, 'tplan-wan')).toBeUndefined();
    expect(new Set(p.namespaces).size).toBe(p.namespaces.length);
    expect(new Set(p.linkNames).size).toBe(p.linkNames.length);
    expect(p.linkNames.filter((l) => l.startsWith('tplan-1'))).not.toEqual(p.linkNames.filter((l) => l.startsWith('tplan-2')));
  });

  it('names every namespace and link with the run prefix, links within 15 characters', () => {
    const p = planTopology(spec());
    expect(p.namespaces).toHaveLength(1 + 3 * (1 + 3 + 3) + 2);
    for (const ns of p.namespaces) expect(ns.startsWith('tplan-')).toBe(true);
    for (const l of p.linkNames) {
      expect(l.startsWith('tplan-')).toBe(true);
      expect(l.length).toBeLessThanOrEqual(MAX_IFNAME);
    }
  });

  it('slices pod CIDRs by nodePodPrefix and places several pods per node', () => {
    const p = planTopology({ runId: 'tx', clusters: [{ name: 'big', podCIDR: '10.8.0.0/20', nodePodPrefix: 26, gateways: 1, workers: 3, podsPerNode: 3 }] });
    const nodes = allNodes(p);
    expect(nodes.map((n) => n.podCIDR)).toEqual(['10.8.0.0/26', '10.8.0.64/26', '10.8.0.128/26', '10.8.0.192/26']);
    expect(nodes[3]?.pods.map((x) => x.ip)).toEqual(['10.8.0.194', '10.8.0.195', '10.8.0.196']);
    expect(nodes[3]?.podGatewayIp).toBe('10.8.0.193');
    for (const pod of allPods(p)) expect(ipInCidr(pod.ip, nodes.find((n) => n.name === pod.node)?.podCIDR as string)).toBe(true);
  });

  it('gives external hosts their own subnet on the node network', () => {
    const p = planTopology(spec());
    expect(p.clusters[2]?.externalCIDR).toBe('203.0.113.0/24');
    expect(p.clusters[2]?.externalHosts.map((h) => [h.name, h.netns, h.ip, h.ifname, h.switchPort])).toEqual([
      ['c-x1', 'tplan-c-x1', '203.0.113.1', 'tplan-3x1', 'tplan-3x1s'],
      ['c-x2', 'tplan-c-x2', '203.0.113.2', 'tplan-3x2', 'tplan-3x2s'],
    ]);
    expect(p.clusters[0]?.externalHosts).toEqual([]);
  });

  it('draws a random run id when none is given', () => {
    const { runId: _r, ...rest } = spec();
    const p1 = planTopology(rest);
    const p2 = planTopology(rest);
    expect(p1.runId).toMatch(/^t[a-z0-9]{4}$/);
    expect(p1.runId).not.toBe(p2.runId);
  });

  it('rejects a pod CIDR too small for the nodes, naming the cluster', () => {
    const e = specError(spec({ clusters: [...spec().clusters, { name: 'd', podCIDR: '10.2.0.0/23' }] }));
    expect(e.field).toBe('clusters[3].podCIDR');
    expect(e.message).toMatch(/10\.2\.0\.0\/23 has room for 2 node slice\(s\) of \/24 but cluster d has 3 nodes \(2 gateways \+ 1 workers\)/);
    // A longer slice makes it fit.
    expect(() => planTopology(spec({ clusters: [{ name: 'd', podCIDR: '10.2.0.0/23', nodePodPrefix: 25 }] }))).not.toThrow();
  });

  it('rejects bad values with the field name', () => {
    const cases: [TopologySpec, string, RegExp][] = [
      [spec({ runId: 'Bad' }), 'runId', /lower-case letter/],
      [spec({ runId: 'toolongid9' }), 'runId', /up to 7/],
      [spec({ clusters: [] }), 'clusters', /non-empty/],
      [spec({ clusters: [{ name: 'a', podCIDR: '10.0.0.0/16' }, { name: 'a', podCIDR: '10.1.0.0/16' }] }), 'clusters[1].name', /duplicates clusters\[0\]\.name/],
      [spec({ clusters: [{ name: 'A_b', podCIDR: '10.0.0.0/16' }] }), 'clusters[0].name', /lower-case/],
      [spec({ clusters: [{ name: 'a', podCIDR: '10.0.0.1/16' }] }), 'clusters[0].podCIDR', /host bits set/],
      [spec({ clusters: [{ name: 'a', podCIDR: 'fd00::/64' }] }), 'clusters[0].podCIDR', /not an IPv4 prefix/],
      [spec({ clusters: [{ name: 'a', podCIDR: '10.0.0.0/16', gateways: -1 }] }), 'clusters[0].gateways', /not an integer/],
      [spec({ clusters: [{ name: 'a', podCIDR: '10.0.0.0/16', workers: 1.5 }] }), 'clusters[0].workers', /not an integer/],
      [spec({ clusters: [{ name: 'a', podCIDR: '10.0.0.0/16', gateways: 0, workers: 0 }] }), 'clusters[0].gateways', /at least one node/],
      [spec({ clusters: [{ name: 'a', podCIDR: '10.0.0.0/16', podsPerNode: 254 }] }), 'clusters[0].podsPerNode', /at most 253/],
      [spec({ clusters: [{ name: 'a', podCIDR: '10.0.0.0/16', nodePodPrefix: 12 }] }), 'clusters[0].nodePodPrefix', /larger than the pod CIDR/],
      [spec({ clusters: [{ name: 'a', podCIDR: '10.0.0.0/16', nodeCIDR: '192.168.0.0/30', workers: 3 }] }), 'clusters[0].nodeCIDR', /room for 2 nodes/],
      [spec({ clusters: [{ name: 'a', podCIDR: '10.0.0.0/16', nodeCIDR: '10.0.128.0/24' }] }), 'clusters[0].nodeCIDR', /overlaps clusters\[0\]\.podCIDR/],
      [spec({ clusters: [{ name: 'a', podCIDR: '10.0.0.0/16', externalHosts: { cidr: '192.168.1.0/25' } }] }), 'clusters[0].externalHosts.cidr', /overlaps clusters\[0\]\.nodeCIDR/],
      [spec({ clusters: [{ name: 'a', podCIDR: '10.0.0.0/16', externalHosts: { cidr: '203.0.113.0/30', count: 3 } }] }), 'clusters[0].externalHosts.count', /do not fit/],
      [spec({ clusters: [{ name: 'a', podCIDR: '172.31.0.0/16' }] }), 'clusters[0].podCIDR', /overlaps wanCIDR/],
      [spec({ wanCIDR: '172.31.0.0/30' }), 'wanCIDR', /room for 2 gateway addresses; the clusters have 6 gateways/],
      [spec({ wanCIDR: 'nope' }), 'wanCIDR', /not an IPv4 prefix/],
    ];
    for (const [s, field, re] of cases) {
      const e = specError(s);
      expect(e.field, e.message).toBe(field);
      expect(e.message).toMatch(re);
      expect(e.message.startsWith(`topology spec: ${field}: `)).toBe(true);
    }
  });

  it('rejects a plan whose interface names would exceed 15 characters', () => {
    const e = specError({ runId: 'tlongid8', clusters: [{ name: 'a', podCIDR: '10.0.0.0/8', workers: 10, podsPerNode: 10 }] });
    expect(e.field).toBe('runId');
    expect(e.message).toMatch(/interface name tlongid8-1g1p10h would be 16 characters \(the kernel allows 15\)/);
  });
});
