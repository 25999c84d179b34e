import { describe, expect, it } from 'vitest';
import { quantile, spread } from './stats.ts';

describe('bench stats', () => {
  it('p50 is the nearest-rank median, max the largest', () => {
    expect(spread([300, 100, 200])).toEqual({ n: 3, p50: 200, max: 300 });
    expect(spread([4, 1, 3, 2])).toEqual({ n: 4, p50: 2, max: 4 });
    expect(spread([7])).toEqual({ n: 1, p50: 7, max: 7 });
  });

  it('quantile by nearest rank and does not reorder its input', () => {
    const xs = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(quantile(xs, 0.9)).toBe(9);
    expect(quantile(xs, 1)).toBe(10);
    expect(quantile(xs, 0.01)).toBe(1);
    expect(xs[0]).toBe(5);
  });

  it('refuses no samples, non-numbers and a bad q', () => {
    expect(() => spread([])).toThrow('no samples');
    expect(() => spread([1, Number.NaN])).toThrow('not a measurement: NaN');
    expect(() => quantile([1], 0)).toThrow('q must be in (0, 1]');
  });
});
