/**
 * The labeler's desired state as pure data: which gateway pod is `active` and which are `standby`,
 * computed from the gateway Lease and the gateway pods at a given wall-clock time, and the label writes
 * that take the pods from what they carry to that state.
 *
 * Rules:
 *  - the Lease holder is active while the Lease is valid: it names a holder and renewTime +
 *    leaseDurationSeconds lies in the future;
 *  - every other gateway pod is standby; with no Lease, no holder, an expired or malformed Lease, or a
 *    holder that names no gateway pod, every gateway pod is standby;
 *  - at most one pod is ever desired active (pod names are unique in a namespace).
 */
import { GATEWAY_ROLE_ACTIVE, GATEWAY_ROLE_LABEL, GATEWAY_ROLE_STANDBY, type GatewayRole } from '@strait/api';
import type { Lease, ObjectMetaLike } from '@strait/kube';

/**
 * Annotation the labeler writes with every role label: a fresh random token per write. Each write is
 * conditional on the token it read, so a write that is still on its way (a timed-out request, a previous
 * labeler's last write) can never land after a newer labeler write to the same pod.
 */
export const GATEWAY_FENCE_ANNOTATION = 'net.strait.io/gateway-fence';

/** The fields of a Pod the labeler reads (plain JSON from the API server). */
export interface GatewayPod {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMetaLike & { name: string; namespace?: string };
  spec?: { nodeName?: string };
  status?: { phase?: string; podIP?: string; podIPs?: Array<{ ip: string }> };
}

export type LeaseVerdict =
  /** The holder is the active gateway until `expiresAtMs`. */
  | { state: 'held'; holder: string; expiresAtMs: number }
  | { state: 'no-lease' }
  | { state: 'no-holder' }
  /** renewTime + leaseDurationSeconds is not in the future. */
  | { state: 'expired'; holder: string; expiredAtMs: number }
  /** A holder without a usable renewTime or leaseDurationSeconds: not trusted. */
  | { state: 'malformed'; holder: string; why: string };

/** Whether the Lease names a holder that is still valid at `nowMs` (wall clock, ms since the epoch). */
export function leaseVerdict(lease: Lease | undefined, nowMs: number): LeaseVerdict {
  if (!lease) return { state: 'no-lease' };
  const spec = lease.spec ?? {};
  const holder = spec.holderIdentity ?? '';
  if (!holder) return { state: 'no-holder' };
  const duration = spec.leaseDurationSeconds;
  if (typeof duration !== 'number' || !Number.isFinite(duration) || duration <= 0) {
    return { state: 'malformed', holder, why: 'spec.leaseDurationSeconds must be a positive number' };
  }
  const renewMs = typeof spec.renewTime === 'string' ? Date.parse(spec.renewTime) : Number.NaN;
  if (!Number.isFinite(renewMs)) return { state: 'malformed', holder, why: 'spec.renewTime is missing or not a timestamp' };
  const expiresAtMs = renewMs + duration * 1000;
  if (expiresAtMs <= nowMs) return { state: 'expired', holder, expiredAtMs: expiresAtMs };
  return { state: 'held', holder, expiresAtMs };
}

/** The pod that should be active ('' for none) according to a verdict. */
export function activeHolder(v: LeaseVerdict): string {
  return v.state === 'held' ? v.holder : '';
}

export interface DesiredRoles {
  verdict: LeaseVerdict;
  /** Name of the pod desired active; undefined when none is (including a holder that names no gateway pod). */
  active: string | undefined;
  /** Desired role of every gateway pod, by pod name. */
  roles: Map<string, GatewayRole>;
}

/** Desired role of every gateway pod. Pure: depends only on its arguments. */
export function desiredRoles(lease: Lease | undefined, pods: readonly GatewayPod[], nowMs: number): DesiredRoles {
  const verdict = leaseVerdict(lease, nowMs);
  const holder = activeHolder(verdict);
  const roles = new Map<string, GatewayRole>();
  let active: string | undefined;
  for (const pod of pods) {
    const name = pod.metadata.name;
    if (holder && name === holder) {
      roles.set(name, GATEWAY_ROLE_ACTIVE);
      active = name;
    } else {
      roles.set(name, GATEWAY_ROLE_STANDBY);
    }
  }
  return { verdict, active, roles };
}

/** The role label a pod carries (undefined when absent; any other value is returned as-is). */
export function currentRole(pod: GatewayPod): string | undefined {
  return pod.metadata.labels?.[GATEWAY_ROLE_LABEL];
}

/** One label write: `pod` (as read: uid, resourceVersion, labels) from `from` to `to`. */
export interface LabelChange {
  name: string;
  uid: string | undefined;
  resourceVersion: string | undefined;
  /** Every label the pod carried when read (undefined: none at all). */
  labels: Record<string, string> | undefined;
  /** The fence token the pod carried when read (undefined: never written by the labeler). */
  fence: string | undefined;
  from: string | undefined;
  to: GatewayRole;
}

/**
 * The writes that take `pods` to `desired`, grouped by the order in which they must be applied:
 *  1. `demote`: pods carrying `active` (or possibly carrying it, see {@link PlanOptions}) that must become
 *     standby — every one of them must have succeeded before anything is promoted, so there are never two
 *     active pods;
 *  2. `label`: pods without the label (or with an unknown value) that become standby — harmless in any
 *     order, applied together with the demotions;
 *  3. `promote`: the holder's pod, when it does not carry `active` yet.
 */
export interface LabelPlan {
  demote: LabelChange[];
  label: LabelChange[];
  promote: LabelChange | undefined;
}

export interface PlanOptions {
  /**
   * Pods (name → uid) that may carry `active` whatever they were read with: a promotion whose outcome is
   * unknown (timeout, lost connection) may still land. Unless desired active, such a pod is demoted again
   * before anything is promoted, even when read as standby.
   */
  uncertain?: ReadonlyMap<string, string | undefined>;
}

export function planLabels(pods: readonly GatewayPod[], desired: DesiredRoles, opts: PlanOptions = {}): LabelPlan {
  const plan: LabelPlan = { demote: [], label: [], promote: undefined };
  for (const pod of pods) {
    const want = desired.roles.get(pod.metadata.name) ?? GATEWAY_ROLE_STANDBY;
    const have = currentRole(pod);
    const uncertain = opts.uncertain?.has(pod.metadata.name) === true && opts.uncertain.get(pod.metadata.name) === pod.metadata.uid;
    if (have === want && !(uncertain && want === GATEWAY_ROLE_STANDBY)) continue;
    const change: LabelChange = {
      name: pod.metadata.name,
      uid: pod.metadata.uid,
      resourceVersion: pod.metadata.resourceVersion,
      labels: pod.metadata.labels,
      fence: pod.metadata.annotations?.[GATEWAY_FENCE_ANNOTATION],
      from: have,
      to: want,
    };
    if (want === GATEWAY_ROLE_ACTIVE) plan.promote = change;
    else if (have === GATEWAY_ROLE_ACTIVE || uncertain) plan.demote.push(change);
    else plan.label.push(change);
  }
  const byName = (a: LabelChange, b: LabelChange) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  plan.demote.sort(byName);
  plan.label.sort(byName);
  return plan;
}

export function planIsEmpty(plan: LabelPlan): boolean {
  return plan.demote.length === 0 && plan.label.length === 0 && plan.promote === undefined;
}

/** A one-line reason for logs and Events, e.g. `Lease <namespace>/<name> has no holder`. */
export function describeVerdict(v: LeaseVerdict, lease: string): string {
  switch (v.state) {
    case 'held':
      return `${v.holder} holds Lease ${lease}`;
    case 'no-lease':
      return `Lease ${lease} does not exist`;
    case 'no-holder':
      return `Lease ${lease} has no holder`;
    case 'expired':
      return `Lease ${lease} held by ${v.holder} expired at ${new Date(v.expiredAtMs).toISOString()}`;
    case 'malformed':
      return `Lease ${lease} held by ${v.holder} is not usable: ${v.why}`;
  }
}
