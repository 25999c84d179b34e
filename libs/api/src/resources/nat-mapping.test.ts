import { describe, expect, it } from 'vitest';
import { examples } from './examples.ts';
import {
  NAT_MAPPING_MAX_ENTRIES,
  validateNatMapping,
  validateNatMappingSpec,
  validateNatMappingStatus,
  type NatMappingEntry,
  type NatMappingSpec,
} from './nat-mapping.ts';

const spec = (patch: Partial<NatMappingSpec> = {}): NatMappingSpec => ({ ...examples.natMapping().spec, ...patch });

function errorsOf(result: { ok: boolean; errors?: string[] }): string[] {
  expect(result.ok).toBe(false);
  return result.errors ?? [];
}

/** `count` distinct entries inside 10.32.0.0/16. */
function entries(count: number): NatMappingEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    externalIP: `10.32.${Math.floor(i / 256)}.${i % 256}`,
    realIP: `192.168.${Math.floor(i / 256)}.${i % 256}`,
  }));
}

describe('validateNatMappingSpec', () => {
  it('accepts the example and an empty list', () => {
    expect(validateNatMappingSpec(spec()).ok).toBe(true);
    expect(validateNatMappingSpec(spec({ entries: [] })).ok).toBe(true);
  });

  it('rejects an externalIP outside externalCIDR, naming the entry', () => {
    const errors = errorsOf(validateNatMappingSpec(spec({ entries: [...entries(2), { externalIP: '10.33.0.5', realIP: '192.168.9.9' }] })));
    expect(errors).toEqual(['spec.entries[2].externalIP: externalIP 10.33.0.5 is outside externalCIDR 10.32.0.0/16']);
  });

  it('rejects an IPv6 externalIP in an IPv4 externalCIDR', () => {
    expect(errorsOf(validateNatMappingSpec(spec({ entries: [{ externalIP: 'fd00::5', realIP: 'fd00:1::5' }] })))).toEqual([
      'spec.entries[0].externalIP: externalIP fd00::5 is outside externalCIDR 10.32.0.0/16',
    ]);
  });

  it('rejects duplicate externalIPs', () => {
    const list = [...entries(3), { externalIP: '10.32.0.1', realIP: '192.168.7.7' }];
    expect(errorsOf(validateNatMappingSpec(spec({ entries: list })))).toEqual(['spec.entries[3]: duplicate entry with externalIP="10.32.0.1"']);
  });

  it('requires canonical IPs, so equal strings are equal addresses', () => {
    const errors = errorsOf(
      validateNatMappingSpec(spec({ externalCIDR: 'fd00:32::/64', entries: [{ externalIP: 'fd00:32:0::5', realIP: 'fd00:1::5' }] })),
    );
    expect(errors).toEqual(['spec.entries[0].externalIP: "fd00:32:0::5" is not in canonical form; write it as "fd00:32::5"']);
  });

  it('rejects an invalid realIP naming the field', () => {
    expect(errorsOf(validateNatMappingSpec(spec({ entries: [{ externalIP: '10.32.0.5', realIP: '192.168.300.5' }] })))).toEqual([
      'spec.entries[0].realIP: "192.168.300.5" is not a valid IP address',
    ]);
  });

  it('rejects a realIP inside externalCIDR (the translation would loop)', () => {
    expect(errorsOf(validateNatMappingSpec(spec({ entries: [{ externalIP: '10.32.0.5', realIP: '10.32.0.6' }] })))).toEqual([
      'spec.entries[0].realIP: realIP 10.32.0.6 must not lie inside externalCIDR 10.32.0.0/16',
    ]);
  });

  it('rejects overlapping podCIDR and externalCIDR, and invalid CIDRs', () => {
    expect(errorsOf(validateNatMappingSpec(spec({ podCIDR: '10.32.128.0/17', entries: [] })))).toEqual([
      'spec.externalCIDR: externalCIDR 10.32.0.0/16 must not overlap podCIDR 10.32.128.0/17',
    ]);
    expect(errorsOf(validateNatMappingSpec(spec({ externalCIDR: '10.32.0.0', entries: [] })))).toEqual([
      'spec.externalCIDR: "10.32.0.0" is not a valid CIDR (for example 10.0.0.0/16 or fd00::/64)',
    ]);
  });

  it(`accepts ${NAT_MAPPING_MAX_ENTRIES} entries and rejects one more`, () => {
    expect(validateNatMappingSpec(spec({ entries: entries(NAT_MAPPING_MAX_ENTRIES) })).ok).toBe(true);
    expect(errorsOf(validateNatMappingSpec(spec({ entries: entries(NAT_MAPPING_MAX_ENTRIES + 1) })))).toEqual([
      `spec.entries: must not have more than ${NAT_MAPPING_MAX_ENTRIES} items`,
    ]);
  });
});

describe('validateNatMappingStatus', () => {
  it('accepts per-node progress and rejects a node listed twice', () => {
    const node = { node: 'gw-1', programmed: 2, errors: [], lastApplied: '2025-01-01T00:00:00Z', observedGeneration: 1 };
    expect(validateNatMappingStatus({ nodes: [node, { ...node, node: 'gw-2' }], observedGeneration: 1 }).ok).toBe(true);
    expect(errorsOf(validateNatMappingStatus({ nodes: [node, node] }))).toEqual(['status.nodes[1]: duplicate entry with node="gw-1"']);
    expect(errorsOf(validateNatMappingStatus({ nodes: [{ ...node, programmed: -1 }] }))).toEqual([
      'status.nodes[0].programmed: must be >= 0 (got -1)',
    ]);
  });
});

describe('validateNatMapping', () => {
  it('accepts the example object', () => {
    expect(validateNatMapping(examples.natMapping()).ok).toBe(true);
  });
});
