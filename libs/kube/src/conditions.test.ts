import { describe, expect, it } from 'vitest';
import { getCondition, isConditionTrue, jsonEqual, removeCondition, setCondition, withObservedGeneration, type Condition } from './conditions.ts';

const t0 = new Date('2025-01-01T00:00:00.123Z');
const t1 = new Date('2025-01-01T00:05:00Z');

describe('conditions', () => {
  it('inserts a condition with lastTransitionTime = now (second precision)', () => {
    const c = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Connecting', message: 'handshake pending' }, t0);
    expect(c).toEqual([{ type: 'Ready', status: 'False', reason: 'Connecting', message: 'handshake pending', lastTransitionTime: '2025-01-01T00:00:00Z' }]);
  });

  it('keeps lastTransitionTime when only reason/message change', () => {
    let c = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Connecting', message: 'a' }, t0);
    c = setCondition(c, { type: 'Ready', status: 'False', reason: 'Retrying', message: 'b' }, t1);
    expect(c[0]).toMatchObject({ reason: 'Retrying', message: 'b', lastTransitionTime: '2025-01-01T00:00:00Z' });
  });

  it('changes lastTransitionTime when the status changes', () => {
    let c = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Connecting', message: '' }, t0);
    c = setCondition(c, { type: 'Ready', status: 'True', reason: 'Connected', message: '' }, t1);
    expect(c[0]?.lastTransitionTime).toBe('2025-01-01T00:05:00Z');
    expect(isConditionTrue(c, 'Ready')).toBe(true);
  });

  it('upserts by type, preserves the others and does not mutate its input', () => {
    const before: Condition[] = [
      { type: 'A', status: 'True', reason: 'Ok', message: '', lastTransitionTime: 'x' },
      { type: 'B', status: 'True', reason: 'Ok', message: '', lastTransitionTime: 'y' },
    ];
    const copy = structuredClone(before);
    const after = setCondition(before, { type: 'B', status: 'False', reason: 'Broken', message: 'm', observedGeneration: 3 }, t1);
    expect(before).toEqual(copy);
    expect(after.map((c) => c.type)).toEqual(['A', 'B']);
    expect(getCondition(after, 'B')).toMatchObject({ status: 'False', observedGeneration: 3 });
    expect(removeCondition(after, 'A').map((c) => c.type)).toEqual(['B']);
  });

  it('rejects malformed conditions with a specific error', () => {
    expect(() => setCondition([], { type: '', status: 'True', reason: 'X', message: '' })).toThrow(/type/);
    expect(() => setCondition([], { type: 'R', status: 'yes' as never, reason: 'X', message: '' })).toThrow(/status must be True, False or Unknown/);
    expect(() => setCondition([], { type: 'R', status: 'True', reason: 'not camel', message: '' })).toThrow(/reason/);
  });

  it('withObservedGeneration stamps status and conditions', () => {
    const obj = { metadata: { name: 'x', generation: 7 } };
    const s = withObservedGeneration(obj, { phase: 'Connected' } as { phase: string; observedGeneration?: number; conditions?: Condition[] }, [
      { type: 'Ready', status: 'True', reason: 'Connected', message: '' },
    ], t0);
    expect(s.observedGeneration).toBe(7);
    expect(s.conditions?.[0]?.observedGeneration).toBe(7);
    expect(s.phase).toBe('Connected');
  });

  it('jsonEqual ignores key order and undefined fields', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1, d: undefined })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 2 })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
  });
});
