/**
 * The figures every benchmark reports: p50 (nearest rank: the smallest value with at least half of the
 * samples at or below it) and max. With 3 trials p50 is the middle one.
 */

export interface Spread {
  n: number;
  p50: number;
  max: number;
}

/** The q-quantile by nearest rank (q in (0, 1]); throws on no samples or a value that is not a finite number. */
export function quantile(samples: readonly number[], q: number): number {
  if (!(q > 0 && q <= 1)) throw new RangeError(`quantile: q must be in (0, 1], got ${q}`);
  const s = sorted(samples);
  return s[Math.ceil(q * s.length) - 1]!;
}

export function spread(samples: readonly number[]): Spread {
  const s = sorted(samples);
  return { n: s.length, p50: s[Math.ceil(0.5 * s.length) - 1]!, max: s[s.length - 1]! };
}

function sorted(samples: readonly number[]): number[] {
  if (samples.length === 0) throw new RangeError('no samples');
  const bad = samples.find((x) => !Number.isFinite(x));
  if (bad !== undefined) throw new RangeError(`not a measurement: ${String(bad)}`);
  return [...samples].sort((a, b) => a - b);
}
