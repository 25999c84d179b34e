import type { TunnelEndpoint } from '@strait/api';
import { describe, expect, it } from 'vitest';
import { remoteCidrs } from './remote-cidrs.ts';

function tep(name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}): TunnelEndpoint {
  return { apiVersion: 'net.strait.io/v1alpha1', kind: 'TunnelEndpoint', metadata: { name, namespace: 'strait-system', ...extra }, spec } as unknown as TunnelEndpoint;
}

describe('remoteCidrs', () => {
  it('takes every peer\'s pod and external CIDRs as this cluster addresses them (remapped ones replace the originals)', () => {
    const r = remoteCidrs([
      tep('b', { remoteClusterID: 'b', remote: { podCIDRs: ['10.2.0.0/16'], externalCIDR: '203.0.113.0/24' } }),
      tep('c', { remoteClusterID: 'c', remote: { podCIDRs: ['10.0.0.0/16', 'fd00:3::/64'], externalCIDR: '198.51.100.0/24' }, remap: { remotePodCIDR: '10.63.0.0/16', remoteExternalCIDR: '100.70.0.0/24', localPodCIDR: '10.61.0.0/16' } }),
    ]);
    expect(r.problems).toEqual([]);
    expect(r.cidrs).toEqual(['10.2.0.0/16', '10.63.0.0/16', '100.70.0.0/24', '203.0.113.0/24', 'fd00:3::/64']);
  });

  it('skips a malformed TunnelEndpoint naming the field, keeps the others, ignores one being deleted', () => {
    const r = remoteCidrs([
      tep('bad', { remoteClusterID: 'x', remote: { podCIDRs: ['10.9.0.1/16'] } }),
      tep('nocidr', { remoteClusterID: 'y', remote: {} }),
      tep('gone', { remoteClusterID: 'z', remote: { podCIDRs: ['10.8.0.0/16'] } }, { deletionTimestamp: '2026-01-01T00:00:00Z' }),
      tep('b', { remoteClusterID: 'b', remote: { podCIDRs: ['10.2.0.0/16'] } }),
    ]);
    expect(r.cidrs).toEqual(['10.2.0.0/16']);
    expect(r.problems.map((p) => [p.key, p.message])).toEqual([
      ['strait-system/bad', 'spec.remote.podCIDRs[0]: 10.9.0.1/16 has host bits set'],
      ['strait-system/nocidr', 'spec.remote.podCIDRs: missing'],
    ]);
  });
});
