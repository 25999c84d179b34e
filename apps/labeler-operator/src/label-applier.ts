/**
 * Applies a {@link LabelPlan} to the API server, in the one order that never leaves two pods `active`:
 *  1. every demotion (active → standby) and every first labelling (→ standby), concurrently;
 *  2. only when every demotion has succeeded (or its pod is gone), the promotion of the holder.
 *
 * Every write is conditional on what the plan was made from, checked atomically by the API server, and sets a
 * fresh fence token (annotation {@link GATEWAY_FENCE_ANNOTATION}) next to the role label:
 *  - a pod the labeler has written before: a JSON patch that tests the pod's uid (the same pod, not one
 *    recreated under the same name) and the fence token as read, then sets label and token. Unrelated changes
 *    to the pod (status, other labels and annotations), frequent on a busy cluster, do not fail it; any
 *    labeler write in between does, and so a write still in flight from before (a timed-out request, the
 *    last write of a previous leader) can never land after a newer one: the newer one changed the token;
 *  - a pod never written by the labeler (no token yet): a merge patch with its resourceVersion as
 *    precondition (once per pod).
 * A write based on a stale read fails (422 from the failed test, 409 from the resourceVersion) instead of
 * acting; the caller re-reads and plans again.
 */
import { randomUUID } from 'node:crypto';
import { GATEWAY_ROLE_LABEL } from '@strait/api';
import { httpStatusOf, isConflict, isInvalid, isNotFound, type JsonPatchOp, type ResourceClient } from '@strait/kube';
import { GATEWAY_FENCE_ANNOTATION, type GatewayPod, type LabelChange, type LabelPlan } from './gateway-roles.ts';

export interface ApplyLabelPlanOptions {
  pods: Pick<ResourceClient<GatewayPod>, 'patch'>;
  namespace: string;
  /** Checked before each phase: false (e.g. leadership lost) → nothing more is written. */
  mayWrite: () => boolean;
  /** Checked right before the promotion (after the demotions): false → the promotion is held back. */
  stillWanted?: (change: LabelChange) => boolean;
  /** Aborts the requests in flight. */
  signal?: AbortSignal | undefined;
  /** New fence tokens. Default random UUIDs. */
  newFence?: () => string;
}

/** gone: 404; precondition: the pod is not as read (422 from a failed test); conflict: stale resourceVersion (409); error: anything else (outcome unknown). */
export type FailureReason = 'gone' | 'precondition' | 'conflict' | 'error';

export interface ApplyOutcome {
  /** Writes that succeeded, with the pod as the API server returned it. */
  written: Array<{ change: LabelChange; pod: GatewayPod }>;
  /** Demotions and first labels whose pod no longer exists (404): nothing to do. */
  gone: LabelChange[];
  failed: Array<{ change: LabelChange; reason: FailureReason; error: string; status: number | undefined }>;
  /** The promotion was written. */
  promoted: boolean;
  /** Why a planned promotion was not attempted. */
  heldBack: string | undefined;
  /** Everything in the plan is now true on the server. */
  complete: boolean;
}

const pointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');
/** JSON pointers of the role label and the fence annotation. */
export const ROLE_LABEL_POINTER = `/metadata/labels/${pointer(GATEWAY_ROLE_LABEL)}`;
export const FENCE_POINTER = `/metadata/annotations/${pointer(GATEWAY_FENCE_ANNOTATION)}`;

export type RoleLabelPatch =
  | { type: 'json'; body: JsonPatchOp[] }
  | { type: 'merge'; body: { metadata: { resourceVersion?: string; labels: Record<string, string>; annotations: Record<string, string> } } };

/** The conditional write of one label change with a new fence token (see the file comment). */
export function roleLabelPatch(change: LabelChange, fence: string): RoleLabelPatch {
  if (change.fence === undefined || change.labels === undefined) {
    return {
      type: 'merge',
      body: {
        metadata: {
          ...(change.resourceVersion ? { resourceVersion: change.resourceVersion } : {}),
          labels: { [GATEWAY_ROLE_LABEL]: change.to },
          annotations: { [GATEWAY_FENCE_ANNOTATION]: fence },
        },
      },
    };
  }
  const ops: JsonPatchOp[] = [];
  if (change.uid) ops.push({ op: 'test', path: '/metadata/uid', value: change.uid });
  ops.push(
    { op: 'test', path: FENCE_POINTER, value: change.fence },
    { op: 'add', path: ROLE_LABEL_POINTER, value: change.to },
    { op: 'add', path: FENCE_POINTER, value: fence },
  );
  return { type: 'json', body: ops };
}

export async function applyLabelPlan(plan: LabelPlan, opts: ApplyLabelPlanOptions): Promise<ApplyOutcome> {
  const out: ApplyOutcome = { written: [], gone: [], failed: [], promoted: false, heldBack: undefined, complete: false };
  const newFence = opts.newFence ?? randomUUID;
  const write = async (change: LabelChange): Promise<void> => {
    try {
      const p = roleLabelPatch(change, newFence());
      const pod = await opts.pods.patch({ namespace: opts.namespace, name: change.name }, p.body, { type: p.type, signal: opts.signal });
      out.written.push({ change, pod });
    } catch (err) {
      if (isNotFound(err) && change.to !== 'active') {
        out.gone.push(change);
        return;
      }
      const reason: FailureReason = isNotFound(err) ? 'gone' : isInvalid(err) ? 'precondition' : isConflict(err) ? 'conflict' : 'error';
      out.failed.push({ change, reason, error: err instanceof Error ? err.message : String(err), status: httpStatusOf(err) });
    }
  };

  const first = [...plan.demote, ...plan.label];
  if (first.length > 0) {
    if (!opts.mayWrite()) {
      out.heldBack = plan.promote ? 'not allowed to write' : undefined;
      return out;
    }
    await Promise.all(first.map(write));
  }

  if (plan.promote) {
    const demoteFailed = out.failed.some((f) => plan.demote.includes(f.change));
    if (demoteFailed) out.heldBack = 'a demotion failed';
    else if (!opts.mayWrite()) out.heldBack = 'not allowed to write';
    else if (opts.stillWanted && !opts.stillWanted(plan.promote)) out.heldBack = 'no longer wanted';
    else {
      await write(plan.promote);
      out.promoted = out.written.some((w) => w.change === plan.promote);
    }
  }
  out.complete = out.failed.length === 0 && out.heldBack === undefined;
  return out;
}
