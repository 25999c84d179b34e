import type { NatMapping, NatMappingNodeStatus } from '@strait/api';
import { computeNatState, type NatMappingResult } from '@strait/net';
import { describe, expect, it } from 'vitest';
import {
  computeConditions,
  desiredNodeStatus,
  fieldManagerFor,
  mergeNodeStatus,
  nodeErrors,
  sameConditions,
  sameNodeStatus,
  statusApplyBody,
} from './node-status.ts';

const T0 = new Date('2025-03-01T10:00:00.123Z');
const T1 = new Date('2025-03-01T10:05:00Z');

function mapping(entries: { externalIP: string; realIP: string }[], status?: NatMapping['status'], generation = 3): NatMapping {
  return {
    apiVersion: 'net.strait.io/v1alpha1',
    kind: 'NatMapping',
    metadata: { name: 'cluster-b', namespace: 'strait-system', generation, creationTimestamp: '2025-01-01T00:00:00Z' as unknown as Date },
    spec: { clusterID: 'cluster-b', podCIDR: '10.20.0.0/16', externalCIDR: '10.32.0.0/16', entries },
    ...(status ? { status } : {}),
  };
}

function resultOf(m: NatMapping): NatMappingResult {
  const r = computeNatState([m]).mappings.get('strait-system/cluster-b');
  if (!r) throw new Error('no result');
  return r;
}

const node = (name: string, programmed: number, generation = 3, errors: string[] = []): NatMappingNodeStatus => ({
  node: name,
  programmed,
  errors,
  observedGeneration: generation,
  lastApplied: '2025-03-01T09:00:00Z',
});

describe('node status', () => {
  it('lists the apply error first, then excluded entries, within the schema limits', () => {
    const bad = Array.from({ length: 30 }, (_, i) => ({ externalIP: `10.99.0.${i}`, realIP: '192.168.0.1' }));
    const r = resultOf(mapping([{ externalIP: '10.32.0.1', realIP: '192.168.0.1' }, ...bad]));
    const errors = nodeErrors(r, 'nft -f - (netns gw): Error: x'.padEnd(2000, 'x'));
    expect(errors).toHaveLength(16);
    expect(errors[0]?.startsWith('apply failed: nft -f - (netns gw): Error: x')).toBe(true);
    expect(errors[0]?.length).toBe(1024);
    expect(errors[1]).toBe('entries[1] 10.99.0.0 → 192.168.0.1: externalIP is outside externalCIDR 10.32.0.0/16');
    expect(errors[15]).toBe('... and 16 more excluded entries (see Events)');
    expect(nodeErrors(resultOf(mapping([])), undefined)).toEqual([]);
  });

  it('keeps lastApplied while the entry does not change', () => {
    const r = resultOf(mapping([{ externalIP: '10.32.0.1', realIP: '192.168.0.1' }]));
    const first = desiredNodeStatus({ node: 'gw-1', result: r, programmed: 1, applyError: undefined, existing: undefined, now: T0 });
    expect(first).toEqual({ node: 'gw-1', programmed: 1, errors: [], observedGeneration: 3, lastApplied: '2025-03-01T10:00:00Z' });
    expect(desiredNodeStatus({ node: 'gw-1', result: r, programmed: 1, applyError: undefined, existing: first, now: T1 }).lastApplied).toBe('2025-03-01T10:00:00Z');
    const changed = desiredNodeStatus({ node: 'gw-1', result: r, programmed: 0, applyError: 'boom', existing: first, now: T1 });
    expect(changed.lastApplied).toBe('2025-03-01T10:05:00Z');
    expect(sameNodeStatus(first, changed)).toBe(false);
    expect(sameNodeStatus(first, { ...first, lastApplied: 'other' })).toBe(true);
  });

  it('merges this node into the list without touching the others', () => {
    const merged = mergeNodeStatus([node('gw-2', 5), node('gw-1', 1), node('gw-0', 5)], node('gw-1', 5));
    expect(merged.map((n) => [n.node, n.programmed])).toEqual([
      ['gw-0', 5],
      ['gw-1', 5],
      ['gw-2', 5],
    ]);
    expect(mergeNodeStatus(undefined, node('gw-1', 5))).toHaveLength(1);
  });

  it('the apply body carries only this node and the conditions (server-side apply merges the rest)', () => {
    const m = mapping([]);
    const body = statusApplyBody(m, node('gw-1', 0), []);
    expect(body).toEqual({
      apiVersion: 'net.strait.io/v1alpha1',
      kind: 'NatMapping',
      metadata: { name: 'cluster-b', namespace: 'strait-system' },
      status: { nodes: [node('gw-1', 0)], conditions: [] },
    });
  });

  it('names the field manager after the node, within 128 characters', () => {
    expect(fieldManagerFor('gw-1')).toBe('natmapping-operator/gw-1');
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}`;
    expect(fieldManagerFor(long).length).toBeLessThanOrEqual(128);
    expect(fieldManagerFor(long)).not.toBe(fieldManagerFor(`${long.slice(0, -1)}d`));
  });
});

describe('conditions', () => {
  const entries = [
    { externalIP: '10.32.0.1', realIP: '192.168.0.1' },
    { externalIP: '10.32.0.2', realIP: '192.168.0.2' },
  ];

  it('Ready when every node at the current generation programs all valid entries; older reports do not count', () => {
    const m = mapping(entries);
    const cs = computeConditions({ obj: m, nodes: [node('gw-1', 2), node('gw-2', 2), node('gw-old', 0, 1)], result: resultOf(m), now: T0 });
    expect(cs).toEqual([
      { type: 'Ready', status: 'True', reason: 'Programmed', message: '2 valid entries programmed on 2 gateway node(s): gw-1, gw-2', observedGeneration: 3, lastTransitionTime: '2025-03-01T10:00:00Z' },
      { type: 'Valid', status: 'True', reason: 'AllEntriesValid', message: 'all 2 entries are valid', observedGeneration: 3, lastTransitionTime: '2025-03-01T10:00:00Z' },
    ]);
  });

  it('not Ready naming the nodes behind and their apply error; lastTransitionTime kept while status stays', () => {
    const m = mapping(entries);
    const r = resultOf(m);
    const behind = computeConditions({ obj: m, nodes: [node('gw-1', 2), node('gw-2', 1, 3, ['apply failed: nft: boom'])], result: r, now: T0 });
    expect(behind[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'NotProgrammed', message: 'gw-2: 1 of 2 valid entries programmed (apply failed: nft: boom)' });
    const later = computeConditions({ obj: mapping(entries, { conditions: behind }), nodes: [node('gw-1', 2), node('gw-2', 0)], result: r, now: T1 });
    expect(later[0]?.lastTransitionTime).toBe('2025-03-01T10:00:00Z');
    expect(later[0]?.message).toBe('gw-2: 0 of 2 valid entries programmed');
    const recovered = computeConditions({ obj: mapping(entries, { conditions: later }), nodes: [node('gw-1', 2), node('gw-2', 2)], result: r, now: T1 });
    expect(recovered[0]).toMatchObject({ status: 'True', lastTransitionTime: '2025-03-01T10:05:00Z' });
    expect(computeConditions({ obj: m, nodes: [node('gw-1', 2, 2)], result: r, now: T0 })[0]).toMatchObject({ status: 'Unknown', reason: 'NoReport' });
  });

  it('Valid is False with the first excluded entries named', () => {
    const m = mapping([...entries, { externalIP: '10.32.0.3', realIP: 'fd00::1' }]);
    const cs = computeConditions({ obj: m, nodes: [node('gw-1', 2)], result: resultOf(m), now: T0 });
    expect(cs[1]).toMatchObject({
      type: 'Valid',
      status: 'False',
      reason: 'InvalidEntries',
      message: '1 of 3 entries are not programmed: entries[2] 10.32.0.3 → fd00::1: realIP is IPv6 but externalIP is IPv4 (see status.nodes[].errors and Events)',
    });
    expect(cs[0]).toMatchObject({ type: 'Ready', status: 'True' });
  });

  it('compares conditions without lastTransitionTime and without foreign types', () => {
    const m = mapping(entries);
    const a = computeConditions({ obj: m, nodes: [node('gw-1', 2)], result: resultOf(m), now: T0 });
    const b = computeConditions({ obj: m, nodes: [node('gw-1', 2)], result: resultOf(m), now: T1 });
    expect(sameConditions(a, [...b].reverse())).toBe(true);
    expect(sameConditions(a, [...a, { type: 'Other', status: 'True', reason: 'X', message: '', lastTransitionTime: '' }])).toBe(true);
    expect(sameConditions(a, a.slice(1))).toBe(false);
  });
});
