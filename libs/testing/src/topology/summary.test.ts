import { describe, expect, it } from 'vitest';
import { planTopology } from './plan.ts';
import { topologySummary } from './summary.ts';

describe('topology summary', () => {
  it('lists every cluster, node, pod and external host with addresses and namespaces', () => {
    const plan = planTopology({
      runId: 'tsum',
      clusters: [
        { name: 'a', podCIDR: '10.0.0.0/16', gateways: 1, workers: 1 },
        { name: 'c', podCIDR: '10.1.0.0/16', gateways: 1, workers: 0, externalHosts: { cidr: '203.0.113.0/24' } },
      ],
    });
    expect(topologySummary(plan)).toBe(
      [
        'topology tsum  wan 172.31.0.0/24  netns tsum-wan',
        'cluster a  pods 10.0.0.0/16  nodes 192.168.1.0/24  switch tsum-a-sw',
        '  a-g1       gateway  192.168.1.1  wan 172.31.0.1  pods 10.0.0.0/24  netns tsum-a-g1',
        '    a-g1-p1  pod      10.0.0.2                                       netns tsum-a-g1-p1',
        '  a-w1       worker   192.168.1.2                  pods 10.0.1.0/24  netns tsum-a-w1',
        '    a-w1-p1  pod      10.0.1.2                                       netns tsum-a-w1-p1',
        'cluster c  pods 10.1.0.0/16  nodes 192.168.2.0/24  external 203.0.113.0/24  switch tsum-c-sw',
        '  c-g1       gateway   192.168.2.1  wan 172.31.0.2  pods 10.1.0.0/24  netns tsum-c-g1',
        '    c-g1-p1  pod       10.1.0.2                                       netns tsum-c-g1-p1',
        '  c-x1       external  203.0.113.1                                    netns tsum-c-x1',
      ].join('\n'),
    );
  });
});
