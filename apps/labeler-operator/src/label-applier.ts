/**
 * Applies a {@link LabelPlan} to the API server, in the one order that never leaves two pods `active`:
 *  1. every demotion (active → standby) and every first labelling (→ standby), concurrently;
 *  2. only when every demotion has succeeded (or its pod is gone), the promotion of the holder.
 * Every write is a JSON merge patch of the role label carrying the pod's resourceVersion as a precondition,
 * so a write based on a stale read (the pod changed, or was deleted and recreated under the same name)
 * fails with 409 instead of acting; the caller re-reads and plans again.
 */
import { GATEWAY_ROLE_LABEL } from '@strait/api';
import { httpStatusOf, isConflict, isNotFound, type ResourceClient } from '@strait/kube';
import type { GatewayPod, LabelChange, LabelPlan } from './gateway-roles.ts';

export interface ApplyLabelPlanOptions {
  pods: Pick<ResourceClient<GatewayPod>, 'patch'>;
  namespace: string;
  /** Checked before each phase: false (e.g. leadership lost) → nothing more is written. */
  mayWrite: () => boolean;
  /** Checked right before the promotion (after the demotions): false → the promotion is held back. */
  stillWanted?: (change: LabelChange) => boolean;
  /** Aborts the requests in flight. */
  signal?: AbortSignal | undefined;
}

export type FailureReason = 'gone' | 'conflict' | 'error';

export interface ApplyOutcome {
  /** Writes that succeeded, with the pod as the API server returned it. */
  written: Array<{ change: LabelChange; pod: GatewayPod }>;
  /** Demotions whose pod no longer exists (404): nothing to demote. */
  gone: LabelChange[];
  failed: Array<{ change: LabelChange; reason: FailureReason; error: string; status: number | undefined }>;
  /** The promotion was written. */
  promoted: boolean;
  /** Why a planned promotion was not attempted. */
  heldBack: string | undefined;
  /** Everything in the plan is now true on the server. */
  complete: boolean;
}

/** The merge patch that sets a pod's role label, valid only at `resourceVersion`. */
export function roleLabelPatch(change: LabelChange): { metadata: { resourceVersion?: string; labels: Record<string, string> } } {
  return {
    metadata: {
      ...(change.resourceVersion ? { resourceVersion: change.resourceVersion } : {}),
      labels: { [GATEWAY_ROLE_LABEL]: change.to },
    },
  };
}

export async function applyLabelPlan(plan: LabelPlan, opts: ApplyLabelPlanOptions): Promise<ApplyOutcome> {
  const out: ApplyOutcome = { written: [], gone: [], failed: [], promoted: false, heldBack: undefined, complete: false };
  const write = async (change: LabelChange): Promise<void> => {
    try {
      const pod = await opts.pods.patch({ namespace: opts.namespace, name: change.name }, roleLabelPatch(change), { type: 'merge', signal: opts.signal });
      out.written.push({ change, pod });
    } catch (err) {
      if (isNotFound(err) && change.to !== 'active') {
        out.gone.push(change);
        return;
      }
      const reason: FailureReason = isNotFound(err) ? 'gone' : isConflict(err) ? 'conflict' : 'error';
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
