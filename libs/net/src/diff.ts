/** A keyed difference between what the kernel has and what is desired. */
export interface KeyedDiff<C, D = C> {
  readonly add: D[];
  readonly remove: C[];
  readonly change: { readonly from: C; readonly to: D }[];
  readonly unchanged: { readonly from: C; readonly to: D }[];
}

/**
 * Matches current and desired items by key. Desired keys must be unique (validated by the caller);
 * a duplicate current key (which the kernel can hold, e.g. two routes differing only in a field
 * Strait does not key on) makes the extra copies removals.
 */
export function diffByKey<C, D>(
  current: readonly C[],
  desired: readonly D[],
  keyOfCurrent: (c: C) => string,
  keyOfDesired: (d: D) => string,
  same: (c: C, d: D) => boolean,
): KeyedDiff<C, D> {
  const byKey = new Map<string, D>();
  for (const d of desired) byKey.set(keyOfDesired(d), d);
  const seen = new Set<string>();
  const remove: C[] = [];
  const change: { from: C; to: D }[] = [];
  const unchanged: { from: C; to: D }[] = [];
  for (const c of current) {
    const k = keyOfCurrent(c);
    const d = byKey.get(k);
    if (d === undefined || seen.has(k)) {
      remove.push(c);
      continue;
    }
    seen.add(k);
    if (same(c, d)) unchanged.push({ from: c, to: d });
    else change.push({ from: c, to: d });
  }
  const add: D[] = [];
  for (const [k, d] of byKey) if (!seen.has(k)) add.push(d);
  return { add, remove, change, unchanged };
}

export function isEmptyDiff(d: KeyedDiff<unknown, unknown>): boolean {
  return d.add.length === 0 && d.remove.length === 0 && d.change.length === 0;
}

/** Throws on the first duplicate key, naming both positions. */
export function assertUniqueKeys<T>(items: readonly T[], key: (t: T) => string, what: string, onDuplicate: (msg: string) => never): void {
  const at = new Map<string, number>();
  items.forEach((it, i) => {
    const k = key(it);
    const prev = at.get(k);
    if (prev !== undefined) onDuplicate(`${what}[${i}] duplicates ${what}[${prev}] (${k})`);
    at.set(k, i);
  });
}
