/** What a desired-state apply did. `writes` counts commands that changed kernel state (0 = no-op). */
export interface ApplyReport {
  readonly added: number;
  readonly removed: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly writes: number;
}

export function report(added: number, removed: number, changed: number, unchanged: number, writes: number): ApplyReport {
  return { added, removed, changed, unchanged, writes };
}

/** The namespace to act in: a name from `ip netns list`, or undefined for the caller's own. */
export type Netns = string | undefined;

/**
 * The caller's own namespace (the host's, for a hostNetwork pod). A named constant rather than a
 * literal `undefined`, which reads badly in `routes.apply(HOST, ...)` and trips lint's prefer-spread.
 */
export const HOST: Netns = undefined;
