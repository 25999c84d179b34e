import { describe, expect, it } from 'vitest';
import { FakeNetwork } from '../fake/fake-network.ts';
import { normalizeTable } from '../nftables.ts';
import {
  NAT_MAP_TABLE,
  computeNatState,
  diffNatState,
  emptyNatState,
  isEmptyNatDiff,
  natElementScript,
  natTableSpec,
  programmedEntries,
  type NatMappingInput,
} from './desired.ts';

interface Entry {
  externalIP: unknown;
  realIP: unknown;
}

let clock = 0;
function mapping(name: string, spec: { podCIDR?: unknown; externalCIDR?: unknown; entries?: unknown }, opts: { ns?: string; created?: string } = {}): NatMappingInput {
  clock++;
  return {
    metadata: {
      name,
      namespace: opts.ns ?? 'strait-system',
      uid: `uid-${name}`,
      generation: 1,
      creationTimestamp: opts.created ?? `2025-01-01T00:00:${String(clock % 60).padStart(2, '0')}Z`,
    },
    spec: { podCIDR: '10.20.0.0/16', externalCIDR: '10.32.0.0/16', entries: [], ...spec },
  };
}

const e = (externalIP: unknown, realIP: unknown): Entry => ({ externalIP, realIP });

describe('computeNatState', () => {
  it('maps every valid entry and allows the pod CIDR as source', () => {
    const s = computeNatState([mapping('b', { entries: [e('10.32.0.1', '192.168.1.1'), e('10.32.0.2', '172.16.0.9')] })]);
    expect([...s.maps[4]]).toEqual([
      ['10.32.0.1', '192.168.1.1'],
      ['10.32.0.2', '172.16.0.9'],
    ]);
    expect(s.maps[6].size).toBe(0);
    expect(s.sources).toEqual({ 4: ['10.20.0.0/16'], 6: [] });
    const r = s.mappings.get('strait-system/b');
    expect(r).toMatchObject({ entries: 2, invalid: 0, problems: [], generation: 1, uid: 'uid-b' });
    expect(r?.ownedExternalIPs).toEqual(['10.32.0.1', '10.32.0.2']);
    expect(r?.ownedRealIPs).toEqual(['192.168.1.1', '172.16.0.9']);
    expect(r?.family).toBe(4);
    expect(s.holders.get('10.32.0.2')).toBe('strait-system/b');
  });

  it('excludes each invalid entry with a message naming it, and keeps the valid ones', () => {
    const s = computeNatState([
      mapping('b', {
        entries: [
          e('10.32.0.1', '192.168.1.1'),
          e('10.33.0.1', '192.168.1.2'), // outside externalCIDR
          e('10.32.0.3', '192.168.300.1'), // invalid realIP
          e('10.32.0.04', '192.168.1.4'), // leading zero
          e('10.32.0.5', 'fd00::5'), // family mismatch
          e('10.32.0.6', '10.32.9.9'), // realIP inside externalCIDR
          e('10.32.0.1', '192.168.1.7'), // duplicate in the mapping
          e('10.32.0.8', '127.0.0.1'), // loopback
          e('10.32.0.9', '224.0.0.5'), // multicast
          e(undefined, '192.168.1.10'), // missing
          e('10.32.0.11', '0.0.0.0'),
          e('10.32.0.12', '192.168.1.12'),
        ],
      }),
    ]);
    expect([...s.maps[4].keys()]).toEqual(['10.32.0.1', '10.32.0.12']);
    const r = s.mappings.get('strait-system/b');
    expect(r?.invalid).toBe(10);
    expect(r?.problems.map((p) => [p.index, p.reason])).toEqual([
      [1, 'ExternalIPOutsideCIDR'],
      [2, 'InvalidRealIP'],
      [3, 'InvalidExternalIP'],
      [4, 'FamilyMismatch'],
      [5, 'RealIPInsideExternalCIDR'],
      [6, 'DuplicateEntry'],
      [7, 'InvalidRealIP'],
      [8, 'InvalidRealIP'],
      [9, 'InvalidExternalIP'],
      [10, 'InvalidRealIP'],
    ]);
    expect(r?.problems[0]?.message).toBe('entries[1] 10.33.0.1 → 192.168.1.2: externalIP is outside externalCIDR 10.32.0.0/16');
    expect(r?.problems[5]?.message).toBe('entries[6] 10.32.0.1 → 192.168.1.7: externalIP 10.32.0.1 is already mapped by entries[0] of this mapping');
    expect(r?.problems[6]?.message).toContain('realIP is a loopback address');
    expect(r?.problems[8]?.message).toBe('entries[9] (missing) → 192.168.1.10: externalIP is not a valid IP address');
  });

  it('gives a contested externalIP to the older mapping; the newer one reports a conflict or a duplicate', () => {
    const older = mapping('a-old', { entries: [e('10.32.0.1', '192.168.1.1'), e('10.32.0.2', '192.168.1.2')] }, { created: '2025-01-01T00:00:00Z' });
    const newer = mapping(
      'z-new',
      { podCIDR: '10.21.0.0/16', entries: [e('10.32.0.1', '192.168.9.9'), e('10.32.0.2', '192.168.1.2'), e('10.32.0.3', '192.168.1.3')] },
      { created: '2025-01-02T00:00:00Z' },
    );
    for (const order of [
      [older, newer],
      [newer, older],
    ]) {
      const s = computeNatState(order);
      expect([...s.maps[4]]).toEqual([
        ['10.32.0.1', '192.168.1.1'],
        ['10.32.0.2', '192.168.1.2'],
        ['10.32.0.3', '192.168.1.3'],
      ]);
      const n = s.mappings.get('strait-system/z-new');
      expect(n?.problems.map((p) => [p.reason, p.heldBy])).toEqual([
        ['ConflictingExternalIP', 'strait-system/a-old'],
        ['DuplicateAcrossMappings', 'strait-system/a-old'],
      ]);
      expect(n?.problems[0]?.message).toBe(
        'entries[0] 10.32.0.1 → 192.168.9.9: conflicts with strait-system/a-old (older), which maps 10.32.0.1 to 192.168.1.1',
      );
      expect(n?.ownedExternalIPs).toEqual(['10.32.0.3']);
      expect(s.sources[4]).toEqual(['10.20.0.0/16', '10.21.0.0/16']);
    }
    // When the older mapping goes, the newer one's entries take over.
    const after = computeNatState([newer]);
    expect([...after.maps[4]]).toEqual([
      ['10.32.0.1', '192.168.9.9'],
      ['10.32.0.2', '192.168.1.2'],
      ['10.32.0.3', '192.168.1.3'],
    ]);
  });

  it('breaks a creation-time tie by namespace/name, never by input order', () => {
    const a = mapping('a', { entries: [e('10.32.0.1', '192.168.1.1')] }, { created: '2025-01-01T00:00:00Z' });
    const b = mapping('b', { entries: [e('10.32.0.1', '192.168.1.2')] }, { created: '2025-01-01T00:00:00Z' });
    expect(computeNatState([b, a]).holders.get('10.32.0.1')).toBe('strait-system/a');
    expect(computeNatState([a, b]).holders.get('10.32.0.1')).toBe('strait-system/a');
  });

  it('accepts a second mapping whose externalCIDR overlaps the first, and merges nested pod CIDRs', () => {
    const s = computeNatState([
      mapping('a', { podCIDR: '10.20.0.0/16', externalCIDR: '10.32.0.0/16', entries: [e('10.32.0.1', '192.168.1.1')] }),
      mapping('b', { podCIDR: '10.20.128.0/17', externalCIDR: '10.32.0.0/24', entries: [e('10.32.0.2', '192.168.1.2')] }),
      mapping('c', { podCIDR: '10.40.0.0/16', externalCIDR: '10.0.0.0/8', entries: [e('10.32.1.1', '192.168.1.3')] }),
    ]);
    expect(s.maps[4].size).toBe(3);
    expect(s.sources[4]).toEqual(['10.20.0.0/16', '10.40.0.0/16']);
    for (const r of s.mappings.values()) expect(r.problems).toEqual([]);
  });

  it('handles IPv6 mappings next to IPv4 ones, with canonical addresses', () => {
    const s = computeNatState([
      mapping('v4', { entries: [e('10.32.0.1', '192.168.1.1')] }),
      mapping('v6', {
        podCIDR: 'fd00:20::/56',
        externalCIDR: 'fd00:32::/64',
        entries: [e('fd00:32::1', 'fd00:99::1'), e('FD00:32:0::2', 'fd00:99:0:0::2'), e('fd00:32::3', '192.168.1.3'), e('fd00:33::1', 'fd00:99::4'), e('::ffff:10.0.0.1', 'fd00:99::5')],
      }),
    ]);
    expect([...s.maps[6]]).toEqual([
      ['fd00:32::1', 'fd00:99::1'],
      ['fd00:32::2', 'fd00:99::2'],
    ]);
    expect(s.sources).toEqual({ 4: ['10.20.0.0/16'], 6: ['fd00:20::/56'] });
    expect(s.mappings.get('strait-system/v6')?.problems.map((p) => p.reason)).toEqual(['FamilyMismatch', 'ExternalIPOutsideCIDR', 'InvalidExternalIP']);
  });

  it('excludes a whole mapping with a bad or mixed-family CIDR, naming it', () => {
    const s = computeNatState([
      mapping('mixed', { podCIDR: 'fd00:20::/56', externalCIDR: '10.32.0.0/16', entries: [e('10.32.0.1', '192.168.1.1')] }),
      mapping('host-bits', { externalCIDR: '10.33.0.1/16', entries: [e('10.33.0.1', '192.168.1.1'), e('10.33.0.2', '192.168.1.2')] }),
      mapping('no-list', { entries: 'nope' }),
      mapping('empty', { entries: [] }),
    ]);
    expect(s.maps[4].size).toBe(0);
    expect(s.sources[4]).toEqual([]);
    expect(s.mappings.get('strait-system/mixed')?.problems).toEqual([
      expect.objectContaining({ index: -1, reason: 'InvalidMapping', count: 1, message: expect.stringContaining('are of different families') }),
    ]);
    const hb = s.mappings.get('strait-system/host-bits');
    expect(hb?.invalid).toBe(2);
    expect(hb?.problems[0]?.message).toBe('spec.externalCIDR "10.33.0.1/16" has host bits set; write 10.33.0.0/16: none of its 2 entries is programmed');
    expect(s.mappings.get('strait-system/no-list')?.problems[0]?.message).toContain('spec.entries is not a list');
    expect(s.mappings.get('strait-system/empty')?.problems).toEqual([]);
  });

  it('only allows the sources of mappings with at least one programmed entry', () => {
    const s = computeNatState([mapping('a', { podCIDR: '10.50.0.0/16', entries: [e('10.40.0.1', '192.168.1.1')] })]);
    expect(s.sources[4]).toEqual([]);
  });

  it('never throws on malformed objects', () => {
    const s = computeNatState([{}, { metadata: { name: 'x' } }, { spec: { entries: [null, 5, 'x'] } }] as NatMappingInput[]);
    expect(s.maps[4].size).toBe(0);
  });

  it('computes 10 000 entries quickly enough to redo on every change', () => {
    const entries = Array.from({ length: 10_000 }, (_, i) => e(`10.32.${i >> 8}.${i & 255}`, `192.168.${i >> 8}.${i & 255}`));
    const t0 = performance.now();
    const s = computeNatState([mapping('big', { entries })]);
    const ms = performance.now() - t0;
    expect(s.maps[4].size).toBe(10_000);
    expect(ms).toBeLessThan(1000); // generous: a figure, not a benchmark (a few ms on a laptop)
  });
});

describe('natTableSpec', () => {
  it('is a valid Strait table with fixed chains and both families', () => {
    const s = computeNatState([mapping('b', { entries: [e('10.32.0.1', '192.168.1.1')] })]);
    const t = normalizeTable(natTableSpec(s));
    expect(t.name).toBe(NAT_MAP_TABLE.name);
    expect(t.chains.get('prerouting')?.rules).toEqual([
      'ip saddr @src4 ip daddr @ext4 dnat ip to ip daddr map @ext4',
      'ip6 saddr @src6 ip6 daddr @ext6 dnat ip6 to ip6 daddr map @ext6',
    ]);
    expect([...(t.sets.get('ext4')?.elements ?? [])]).toEqual([['10.32.0.1', '192.168.1.1']]);
    expect([...(t.sets.get('src4')?.elements.keys() ?? [])]).toEqual(['10.20.0.0/16']);
    expect(t.sets.get('ext6')?.elements.size).toBe(0);
  });
});

describe('diffNatState', () => {
  const big = (changed?: number): NatMappingInput =>
    mapping(
      'big',
      { entries: Array.from({ length: 1000 }, (_, i) => e(`10.32.${i >> 8}.${i & 255}`, i === changed ? '172.16.0.1' : `192.168.${i >> 8}.${i & 255}`)) },
      { created: '2025-01-01T00:00:00Z' },
    );

  it('is empty between equal states', () => {
    expect(isEmptyNatDiff(diffNatState(computeNatState([big()]), computeNatState([big()])))).toBe(true);
  });

  it('turns one changed entry into one add (the port deletes the old value first)', () => {
    const d = diffNatState(computeNatState([big()]), computeNatState([big(7)]));
    expect(d).toEqual({
      sourcesChanged: false,
      changedEntries: 1,
      elements: { 4: { add: [['10.32.0.7', '172.16.0.1']], delete: [], replaced: ['10.32.0.7'] }, 6: { add: [], delete: [], replaced: [] } },
      sources: { 4: { add: [], delete: [] }, 6: { add: [], delete: [] } },
    });
    expect(natElementScript(d)).toBe('delete element inet strait_natmap ext4 { 10.32.0.7 }\nadd element inet strait_natmap ext4 { 10.32.0.7 : 172.16.0.1 }\n');
  });

  it('removes exactly the elements of a deleted mapping (and its source)', () => {
    const other = mapping('other', { podCIDR: '10.21.0.0/16', externalCIDR: '10.33.0.0/16', entries: [e('10.33.0.1', '192.168.7.1')] });
    const d = diffNatState(computeNatState([big(), other]), computeNatState([big()]));
    expect(d.elements[4]).toEqual({ add: [], delete: ['10.33.0.1'], replaced: [] });
    expect(d.sourcesChanged).toBe(true);
    expect(natElementScript(d)).toBe('delete element inet strait_natmap ext4 { 10.33.0.1 }\ndelete element inet strait_natmap src4 { 10.21.0.0/16 }\n');
    expect(diffNatState(emptyNatState(), computeNatState([other])).elements[4].add).toEqual([['10.33.0.1', '192.168.7.1']]);
  });

  it('applied through the nftables fake, one change at 1000 entries is one delete and one add', async () => {
    const net = new FakeNetwork();
    await net.netns.ensure('gw');
    await net.nft.apply('gw', natTableSpec(computeNatState([big()])));
    const d = diffNatState(computeNatState([big()]), computeNatState([big(7)]));
    const r = await net.nft.updateElements('gw', { family: 'inet', table: NAT_MAP_TABLE.name, name: 'ext4' }, d.elements[4]);
    expect(r.script).toBe('delete element inet strait_natmap ext4 { 10.32.0.7 }\nadd element inet strait_natmap ext4 { 10.32.0.7 : 172.16.0.1 }\n');
  });
});

describe('natElementScript', () => {
  it('writes one transaction: every delete first, new keys are only added, sources replaced before maps filled', () => {
    const before = computeNatState([
      mapping('a', { podCIDR: '10.20.0.0/17', entries: [e('10.32.0.1', '192.168.1.1'), e('10.32.0.2', '192.168.1.2')] }, { created: '2025-01-01T00:00:00Z' }),
      mapping('v6', { podCIDR: 'fd00:20::/56', externalCIDR: 'fd00:32::/64', entries: [e('fd00:32::1', 'fd00:99::1')] }, { created: '2025-01-01T00:00:00Z' }),
    ]);
    const after = computeNatState([
      mapping('a', { podCIDR: '10.20.0.0/16', entries: [e('10.32.0.1', '192.168.1.9'), e('10.32.0.3', '192.168.1.3')] }, { created: '2025-01-01T00:00:00Z' }),
      mapping('v6', { podCIDR: 'fd00:20::/56', externalCIDR: 'fd00:32::/64', entries: [] }, { created: '2025-01-01T00:00:00Z' }),
    ]);
    expect(natElementScript(diffNatState(before, after)).trimEnd().split('\n')).toEqual([
      'delete element inet strait_natmap ext4 { 10.32.0.2, 10.32.0.1 }',
      'delete element inet strait_natmap src4 { 10.20.0.0/17 }',
      'delete element inet strait_natmap ext6 { fd00:32::1 }',
      'delete element inet strait_natmap src6 { fd00:20::/56 }',
      'add element inet strait_natmap src4 { 10.20.0.0/16 }',
      'add element inet strait_natmap ext4 { 10.32.0.1 : 192.168.1.9, 10.32.0.3 : 192.168.1.3 }',
    ]);
    expect(natElementScript(diffNatState(after, after))).toBe('');
  });

  it('splits very large changes into lines of at most 4096 elements', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => e(`10.32.${i >> 8}.${i & 255}`, '192.168.1.1'));
    const s = natElementScript(diffNatState(emptyNatState(), computeNatState([mapping('a', { entries: many(10_000) })])));
    expect(s.trimEnd().split('\n').map((l) => l.split(' : ').length - 1)).toEqual([0, 4096, 4096, 1808]); // the source, then 3 lines of elements
  });
});

describe('programmedEntries', () => {
  it('counts the entries the kernel translates as the mapping says', () => {
    const m = mapping('a', { entries: [e('10.32.0.1', '192.168.1.1'), e('10.32.0.2', '192.168.1.2')] }, { created: '2025-01-01T00:00:00Z' });
    const want = computeNatState([m]);
    const r = want.mappings.get('strait-system/a');
    if (!r) throw new Error('no result');
    expect(programmedEntries(r, undefined)).toBe(0);
    expect(programmedEntries(r, want)).toBe(2);
    const stale = computeNatState([mapping('a', { entries: [e('10.32.0.1', '192.168.1.1'), e('10.32.0.2', '192.168.9.9')] }, { created: '2025-01-01T00:00:00Z' })]);
    expect(programmedEntries(r, stale)).toBe(1);
  });
});

describe('local checks cache', () => {
  it('reuses the checks of an unchanged spec object and redoes them for a new one', () => {
    const a = mapping('a', { entries: [e('10.32.0.1', '192.168.1.1')] }, { created: '2025-01-01T00:00:00Z' });
    const b = mapping('b', { entries: [e('10.32.0.1', '192.168.1.2')] }, { created: '2025-01-02T00:00:00Z' });
    const first = computeNatState([a, b]);
    expect(first.mappings.get('strait-system/b')?.problems[0]?.reason).toBe('ConflictingExternalIP');
    // a goes: b's cached local checks are reused, the cross-mapping result is recomputed.
    const second = computeNatState([b]);
    expect(second.mappings.get('strait-system/b')?.problems).toEqual([]);
    expect(second.maps[4].get('10.32.0.1')).toBe('192.168.1.2');
    const b2 = { ...b, spec: { ...b.spec, entries: [e('10.32.0.1', '192.168.1.3')] } };
    expect(computeNatState([b2]).maps[4].get('10.32.0.1')).toBe('192.168.1.3');
  });

  it('checks an IPv6 externalIP in an IPv4 mapping the same way as the slow path', () => {
    const s = computeNatState([mapping('a', { entries: [e('fd00::1', '192.168.1.1'), e('10.32.0.1', 'fd00::1')] })]);
    expect(s.mappings.get('strait-system/a')?.problems.map((p) => p.reason)).toEqual(['ExternalIPOutsideCIDR', 'FamilyMismatch']);
  });
});
