/**
 * Finalizer and status-write helpers for reconcilers. Writes use the object's resourceVersion as a
 * precondition (optimistic concurrency): a stale object fails with 409 and the controller retries
 * with fresh state, so concurrent writers never lose each other's finalizers.
 */
import type { ResourceClient } from './cr-client.ts';
import type { KubeObject } from './descriptor.ts';
import { isNotFound } from './errors.ts';
import { jsonEqual } from './conditions.ts';

const FINALIZER_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function checkFinalizer(f: string): void {
  if (typeof f !== 'string' || !FINALIZER_RE.test(f) || f.length > 253) {
    throw new TypeError(`finalizer must be a domain-qualified name like "net.strait.io/cleanup" (got ${JSON.stringify(f)})`);
  }
}

function refOf(obj: KubeObject) {
  return { name: obj.metadata?.name ?? '', namespace: obj.metadata?.namespace };
}

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

export function isBeingDeleted(obj: KubeObject): boolean {
  return Boolean(obj.metadata?.deletionTimestamp);
}

/** Adds the finalizer if missing; returns the up-to-date object. */
export async function ensureFinalizer<T extends KubeObject>(client: ResourceClient<T>, obj: T, finalizer: string): Promise<T> {
  checkFinalizer(finalizer);
  if (hasFinalizer(obj, finalizer)) return obj;
  return client.patch(
    refOf(obj),
    { metadata: { resourceVersion: obj.metadata?.resourceVersion, finalizers: [...(obj.metadata?.finalizers ?? []), finalizer] } },
    { type: 'merge' },
  );
}

/** Removes the finalizer if present; returns the object, or undefined if that was the last finalizer and it is gone. */
export async function removeFinalizer<T extends KubeObject>(client: ResourceClient<T>, obj: T, finalizer: string): Promise<T | undefined> {
  checkFinalizer(finalizer);
  if (!hasFinalizer(obj, finalizer)) return obj;
  try {
    return await client.patch(
      refOf(obj),
      {
        metadata: {
          resourceVersion: obj.metadata?.resourceVersion,
          finalizers: (obj.metadata?.finalizers ?? []).filter((f) => f !== finalizer),
        },
      },
      { type: 'merge' },
    );
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export type FinalizeOutcome<T> = { deleting: true } | { deleting: false; obj: T };

/**
 * The usual finalizer dance in one call:
 *  - object being deleted and carrying our finalizer → run `cleanup`, then remove the finalizer → `{ deleting: true }`;
 *  - object being deleted without our finalizer → nothing to do → `{ deleting: true }`;
 *  - otherwise make sure our finalizer is present → `{ deleting: false, obj }` (obj is up to date).
 * If `cleanup` throws, the finalizer stays and the error propagates (the controller retries with backoff).
 */
export async function handleFinalizer<T extends KubeObject>(
  client: ResourceClient<T>,
  obj: T,
  finalizer: string,
  cleanup: (obj: T) => Promise<void>,
): Promise<FinalizeOutcome<T>> {
  checkFinalizer(finalizer);
  if (isBeingDeleted(obj)) {
    if (hasFinalizer(obj, finalizer)) {
      await cleanup(obj);
      await removeFinalizer(client, obj, finalizer);
    }
    return { deleting: true };
  }
  return { deleting: false, obj: await ensureFinalizer(client, obj, finalizer) };
}

/**
 * Writes `status` through the status subresource unless it already equals the object's status.
 * The object's resourceVersion is the precondition (409 when stale). Returns the up-to-date object.
 */
export async function updateStatusIfChanged<T extends KubeObject & { status?: unknown }>(
  client: ResourceClient<T>,
  obj: T,
  status: T['status'],
): Promise<T> {
  if (jsonEqual(obj.status, status)) return obj;
  return client.updateStatus({ ...obj, status });
}
