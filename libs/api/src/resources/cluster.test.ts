import { describe, expect, it } from 'vitest';
import { validateCluster, validateClusterSpec, validateClusterStatus, type ClusterSpec } from './cluster.ts';
import { examples } from './examples.ts';

const spec = (patch: Partial<ClusterSpec> = {}): ClusterSpec => ({ ...examples.cluster().spec, ...patch });

function errorsOf(result: { ok: boolean; errors?: string[] }): string[] {
  expect(result.ok).toBe(false);
  return result.errors ?? [];
}

describe('validateClusterSpec', () => {
  it('accepts the example', () => {
    const result = validateClusterSpec(spec());
    expect(result).toEqual({ ok: true, value: spec() });
  });

  it('accepts a cluster without externalCIDR', () => {
    const { externalCIDR: _ignored, ...rest } = spec();
    expect(validateClusterSpec(rest).ok).toBe(true);
  });

  it('rejects a clusterID that is not a DNS-1123 label', () => {
    const errors = errorsOf(validateClusterSpec(spec({ clusterID: 'Cluster_B' })));
    expect(errors).toEqual([expect.stringMatching(/^spec\.clusterID: "Cluster_B" must be a DNS-1123 label/)]);
  });

  it('requires the CIDR lists and names the missing fields', () => {
    const errors = errorsOf(validateClusterSpec({ clusterID: 'b' }));
    expect(errors).toContain('spec.podCIDRs: required field is missing');
    expect(errors).toContain('spec.serviceCIDRs: required field is missing');
  });

  it('rejects an empty pod CIDR list', () => {
    expect(errorsOf(validateClusterSpec(spec({ podCIDRs: [] })))[0]).toMatch(/^spec\.podCIDRs: /);
  });

  it('rejects invalid and non-canonical CIDRs, naming the index', () => {
    const errors = errorsOf(validateClusterSpec(spec({ podCIDRs: ['10.20.0.0/33', '10.30.0.1/16', 'FD00::/64'] })));
    expect(errors).toContain('spec.podCIDRs[0]: "10.20.0.0/33" is not a valid CIDR (for example 10.0.0.0/16 or fd00::/64)');
    expect(errors).toContain('spec.podCIDRs[1]: "10.30.0.1/16" has host bits set; the network is "10.30.0.0/16"');
    expect(errors).toContain('spec.podCIDRs[2]: "FD00::/64" is not in canonical form; write it as "fd00::/64"');
  });

  it('rejects duplicate and overlapping pod CIDRs', () => {
    expect(errorsOf(validateClusterSpec(spec({ podCIDRs: ['10.20.0.0/16', '10.20.0.0/16'] })))).toEqual([
      'spec.podCIDRs[1]: duplicate value "10.20.0.0/16"',
    ]);
    expect(errorsOf(validateClusterSpec(spec({ podCIDRs: ['10.20.0.0/16', '10.20.128.0/17'] })))).toEqual([
      'spec.podCIDRs[1]: CIDRs in this list must not overlap each other: "10.20.0.0/16" and "10.20.128.0/17"',
    ]);
  });

  it('rejects service CIDRs that overlap pod CIDRs', () => {
    expect(errorsOf(validateClusterSpec(spec({ serviceCIDRs: ['10.20.5.0/24'] })))).toEqual([
      'spec.serviceCIDRs[0]: serviceCIDRs must not overlap podCIDRs: 10.20.5.0/24 overlaps 10.20.0.0/16',
    ]);
  });

  it('rejects an external CIDR that overlaps pod or service CIDRs', () => {
    expect(errorsOf(validateClusterSpec(spec({ externalCIDR: '10.0.0.0/8' })))).toEqual([
      'spec.externalCIDR: externalCIDR 10.0.0.0/8 must not overlap podCIDRs or serviceCIDRs (overlaps 10.20.0.0/16)',
    ]);
    expect(errorsOf(validateClusterSpec(spec({ externalCIDR: '10.21.7.0/24' })))[0]).toMatch(/overlaps 10\.21\.0\.0\/16/);
  });

  it('allows the same range in different families and does not compare IPv4 with IPv6', () => {
    expect(validateClusterSpec(spec({ podCIDRs: ['10.20.0.0/16', 'fd00::/64'], serviceCIDRs: ['fd01::/108'] })).ok).toBe(true);
  });

  it('prunes unknown fields like the API server and leaves the input alone', () => {
    const input = { ...spec(), color: 'blue' };
    const result = validateClusterSpec(input);
    expect(result).toEqual({ ok: true, value: spec() });
    expect(input.color).toBe('blue');
  });

  it('rejects non-objects without throwing', () => {
    expect(errorsOf(validateClusterSpec(null))[0]).toMatch(/^spec: must be object/);
    expect(errorsOf(validateClusterSpec('x'))[0]).toMatch(/^spec: must be object/);
    expect(errorsOf(validateClusterSpec({ clusterID: 'b', podCIDRs: 'x', serviceCIDRs: [1] })).length).toBeGreaterThan(0);
    expect(errorsOf(validateClusterSpec({ f: () => 1 }))[0]).toMatch(/^spec: not a plain JSON value/);
  });
});

describe('validateClusterStatus', () => {
  it('accepts conditions and rejects a bad condition status', () => {
    const condition = { type: 'Ready', status: 'True', reason: 'Imported', message: '', lastTransitionTime: '2025-01-01T00:00:00Z' };
    expect(validateClusterStatus({ conditions: [condition], observedGeneration: 2 }).ok).toBe(true);
    expect(errorsOf(validateClusterStatus({ conditions: [{ ...condition, status: 'Yes' }] }))).toEqual([
      'status.conditions[0].status: unsupported value "Yes"; supported values: True, False, Unknown',
    ]);
    expect(errorsOf(validateClusterStatus({ conditions: [condition, condition] }))).toEqual([
      'status.conditions[1]: duplicate entry with type="Ready"',
    ]);
  });
});

describe('validateCluster', () => {
  it('accepts the example object', () => {
    expect(validateCluster(examples.cluster()).ok).toBe(true);
  });

  it('checks apiVersion, kind and metadata.name', () => {
    const errors = errorsOf(validateCluster({ ...examples.cluster(), apiVersion: 'v1', kind: 'Endpoint', metadata: { name: 'A_b' } }));
    expect(errors).toEqual([
      'apiVersion: must be net.strait.io/v1alpha1 (got "v1")',
      'kind: must be Cluster (got "Endpoint")',
      'metadata.name: must be a DNS-1123 subdomain (got "A_b")',
    ]);
  });

  it('requires spec', () => {
    const { spec: _spec, ...rest } = examples.cluster();
    expect(errorsOf(validateCluster(rest))[0]).toMatch(/^spec: must be object/);
  });
});
