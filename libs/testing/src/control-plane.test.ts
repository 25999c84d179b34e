import { describe, expect, it } from 'vitest';
import { apiServerSans, assertClusterName } from './cluster.ts';
import { normalizeClusters } from './control-plane.ts';

describe('normalizeClusters', () => {
  it('defaults to one cluster without kube-controller-manager', () => {
    expect(normalizeClusters(undefined)).toEqual([{ name: 'cluster-1', controllerManager: false, serviceCidr: '10.96.0.0/16' }]);
  });

  it('expands a count into named clusters', () => {
    expect(normalizeClusters(3).map((c) => c.name)).toEqual(['cluster-1', 'cluster-2', 'cluster-3']);
    expect(normalizeClusters(0)).toEqual([]);
  });

  it('keeps given names and options and fills the rest', () => {
    const out = normalizeClusters([{ name: 'broker', controllerManager: true }, { serviceCidr: '10.100.0.0/16' }]);
    expect(out).toEqual([
      { name: 'broker', controllerManager: true, serviceCidr: '10.96.0.0/16' },
      { name: 'cluster-2', controllerManager: false, serviceCidr: '10.100.0.0/16' },
    ]);
  });

  it('rejects bad counts, bad names and duplicates', () => {
    expect(() => normalizeClusters(-1)).toThrow(/integer between 0 and 16/);
    expect(() => normalizeClusters(1.5)).toThrow(/integer between 0 and 16/);
    expect(() => normalizeClusters([{ name: 'Not_A_Label' }])).toThrow(/is not a DNS label/);
    expect(() => normalizeClusters([{ name: 'a' }, { name: 'a' }])).toThrow(/"a" is used twice/);
    expect(() => normalizeClusters([{ name: 'b', serviceCidr: '10.0.0.1/24' }])).toThrow(/cluster b: service CIDR 10.0.0.1\/24 has host bits set/);
  });
});

describe('cluster helpers', () => {
  it('puts loopback, the kubernetes Service names and its ClusterIP into the serving certificate', () => {
    expect(apiServerSans('10.96.0.0/16')).toEqual({
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
      ips: ['127.0.0.1', '10.96.0.1'],
    });
  });

  it('accepts DNS labels only', () => {
    expect(() => assertClusterName('east-1')).not.toThrow();
    expect(() => assertClusterName('-east')).toThrow(/DNS label/);
    expect(() => assertClusterName('a'.repeat(41))).toThrow(/DNS label/);
  });
});
