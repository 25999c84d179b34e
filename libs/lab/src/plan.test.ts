import { describe, expect, it } from 'vitest';
import { planTopology } from '@strait/testing';
import { DEFAULT_LAB_OPTIONS, LAB_DRIVERS, defaultClusters, healthCheckIpOf, labBackendsOf, labOptionProblems, labTopologySpec, memberNames, podCidrOf, type LabDriver } from './plan.ts';

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

  it('names the flag of a bad option and accepts every driver', () => {
    expect(labOptionProblems(DEFAULT_LAB_OPTIONS)).toEqual([]);
    expect(labOptionProblems({ ...DEFAULT_LAB_OPTIONS, gateways: 0 })).toEqual(['--gateways must be from 1 to 4']);
    for (const driver of LAB_DRIVERS) expect(labOptionProblems({ ...DEFAULT_LAB_OPTIONS, driver })).toEqual([]);
    expect(labOptionProblems({ ...DEFAULT_LAB_OPTIONS, driver: 'gre' as LabDriver })).toEqual(['--driver must be one of wireguard, ipsec, vxlan, mixed']);
  });

  it('one driver: every cluster offers it; mixed: a rotation giving every pair exactly one driver in common', () => {
    expect(labBackendsOf('ipsec', 1)).toEqual(['ipsec']);
    expect(labBackendsOf('vxlan', 5)).toEqual(['vxlan']);
    expect([1, 2, 3, 4].map((i) => labBackendsOf('mixed', i))).toEqual([
      ['wireguard', 'vxlan'],
      ['ipsec', 'wireguard'],
      ['vxlan', 'ipsec'],
      ['wireguard', 'vxlan'],
    ]);
    const common = (a: number, b: number) => labBackendsOf('mixed', a).filter((x) => labBackendsOf('mixed', b).includes(x));
    expect([common(1, 2), common(1, 3), common(2, 3)]).toEqual([['wireguard'], ['vxlan'], ['ipsec']]);
    expect([defaultClusters('mixed'), defaultClusters('wireguard'), defaultClusters('vxlan')]).toEqual([3, 2, 2]);
  });
});
