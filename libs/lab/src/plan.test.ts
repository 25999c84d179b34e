import { describe, expect, it } from 'vitest';
import { planTopology } from '@strait/testing';
import { DEFAULT_LAB_OPTIONS, healthCheckIpOf, labOptionProblems, labTopologySpec, memberNames, podCidrOf } from './plan.ts';

describe('lab plan', () => {
  it('defaults: two clusters of two gateways and one worker, distinct pod CIDRs', () => {
    const plan = planTopology(labTopologySpec('sl0a1b', DEFAULT_LAB_OPTIONS));
    expect(plan.clusters.map((c) => [c.name, c.podCIDR, c.gateways.length, c.workers.length])).toEqual([
      ['cluster-1', '10.1.0.0/16', 2, 1],
      ['cluster-2', '10.2.0.0/16', 2, 1],
    ]);
    expect(plan.clusters.flatMap((c) => c.pods).length).toBe(6);
    expect(plan.namespaces.every((n) => n.startsWith('sl0a1b-'))).toBe(true);
  });

  it('--overlap gives every cluster the same pod CIDR', () => {
    const spec = labTopologySpec('sl0a1b', { ...DEFAULT_LAB_OPTIONS, clusters: 3, overlap: true });
    expect(new Set(spec.clusters.map((c) => c.podCIDR))).toEqual(new Set(['10.0.0.0/16']));
    expect(podCidrOf(3, false)).toBe('10.3.0.0/16');
    expect(memberNames(3)).toEqual(['cluster-1', 'cluster-2', 'cluster-3']);
  });

  it('the health-check address lies in the pod CIDR, outside every node slice', () => {
    expect(healthCheckIpOf('10.1.0.0/16')).toBe('10.1.255.254');
  });

  it('names the flag of a bad option and refuses drivers a joined lab cannot use yet', () => {
    expect(labOptionProblems(DEFAULT_LAB_OPTIONS)).toEqual([]);
    expect(labOptionProblems({ ...DEFAULT_LAB_OPTIONS, gateways: 0 })).toEqual(['--gateways must be from 1 to 4']);
    expect(labOptionProblems({ ...DEFAULT_LAB_OPTIONS, driver: 'ipsec' })[0]).toMatch(/--driver=ipsec is not available yet.*--driver=wireguard/);
  });
});
