/**
 * Status helpers: standard Kubernetes conditions and observedGeneration.
 * `lastTransitionTime` changes only when a condition's status changes.
 */
import type { KubeObject } from './descriptor.ts';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  /** CamelCase machine-readable reason. */
  reason: string;
  message: string;
  /** RFC 3339. */
  lastTransitionTime: string;
  observedGeneration?: number;
}

export type ConditionInput = Omit<Condition, 'lastTransitionTime'> & { lastTransitionTime?: string };

const REASON_RE = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

function rfc3339(d: Date): string {
  // Kubernetes metav1.Time has second precision.
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Returns a new list with `cond` inserted or updated (matched by type). An unchanged status keeps the
 * previous lastTransitionTime; a changed status takes `now`. Throws on malformed input (empty type,
 * bad status or reason) without changing anything.
 */
export function setCondition(conditions: readonly Condition[] | undefined, cond: ConditionInput, now: Date = new Date()): Condition[] {
  if (typeof cond.type !== 'string' || cond.type === '') throw new TypeError('condition.type must be a non-empty string');
  if (cond.status !== 'True' && cond.status !== 'False' && cond.status !== 'Unknown') {
    throw new TypeError(`condition ${cond.type}: status must be True, False or Unknown (got ${JSON.stringify(cond.status)})`);
  }
  if (typeof cond.reason !== 'string' || !REASON_RE.test(cond.reason)) {
    throw new TypeError(`condition ${cond.type}: reason must be CamelCase (got ${JSON.stringify(cond.reason)})`);
  }
  if (typeof cond.message !== 'string') throw new TypeError(`condition ${cond.type}: message must be a string`);
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === cond.type);
  const prev = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    type: cond.type,
    status: cond.status,
    reason: cond.reason,
    message: cond.message,
    lastTransitionTime: prev && prev.status === cond.status ? prev.lastTransitionTime : (cond.lastTransitionTime ?? rfc3339(now)),
  };
  if (cond.observedGeneration !== undefined) next.observedGeneration = cond.observedGeneration;
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/** metadata.generation of the object, to record as status.observedGeneration. */
export function generationOf(obj: KubeObject): number | undefined {
  return obj.metadata?.generation;
}

/**
 * Returns `status` with observedGeneration set from the object and, when `conditions` are given,
 * each upserted with that observedGeneration.
 */
export function withObservedGeneration<S extends { observedGeneration?: number; conditions?: Condition[] }>(
  obj: KubeObject,
  status: S,
  conditions: ConditionInput[] = [],
  now: Date = new Date(),
): S {
  const gen = obj.metadata?.generation;
  let conds = status.conditions;
  for (const c of conditions) conds = setCondition(conds, gen === undefined ? c : { ...c, observedGeneration: gen }, now);
  const out: S = { ...status };
  if (gen !== undefined) out.observedGeneration = gen;
  if (conds !== undefined) out.conditions = conds;
  return out;
}

/** Structural equality of JSON values (order of object keys ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => jsonEqual(ao[k], bo[k]));
}
