/**
 * The labeler reconciler: keeps `net.strait.io/gateway=active` on the pod that holds the gateway Lease and
 * `standby` on every other gateway pod, so the gateway Service selects exactly the active gateway.
 *
 * Inputs: an informer on the gateway Lease, an informer on the gateway pods, and hints (a NATS leader
 * message): a hint makes the next reconcile re-read the Lease from the API server; its payload is never used.
 * Everything maps to one workqueue key, so reconciles never overlap.
 *
 * One reconcile:
 *  1. desired state from the newest Lease seen (watch or re-read) and the cached pods, merged with this
 *     labeler's own writes the cache has not caught up with yet; nothing to do → no API request at all;
 *  2. otherwise a fresh (quorum) list of the gateway pods, and the plan is made again from it;
 *  3. the plan is applied demotions first; the holder is promoted only after every demotion succeeded
 *     (see label-applier.ts), each write with the listed resourceVersion as precondition;
 *  4. a conflict or a failure retries with a short backoff; a held Lease is looked at again when it expires.
 *
 * Informers run all the time (warm caches); reconciling runs only while this instance may write
 * (startReconciling / stopReconciling, driven by the labeler's own leader election).
 */
import { GATEWAY_ROLE_ACTIVE, type GatewayRole } from '@strait/api';
import {
  Controller,
  Informer,
  PodResource,
  type EventRecorder,
  type Lease,
  type ReconcileMetricsSink,
  type ReconcileResult,
  type ResourceClient,
  type WorkqueueMetricsSink,
} from '@strait/kube';
import type { Logger } from '@strait/observability';
import {
  activeHolder,
  currentRole,
  describeVerdict,
  desiredRoles,
  leaseVerdict,
  planIsEmpty,
  planLabels,
  type GatewayPod,
  type LabelPlan,
  type LeaseVerdict,
} from './gateway-roles.ts';
import { applyLabelPlan, type ApplyOutcome } from './label-applier.ts';
import type { LabelerMetrics } from './labeler-metrics.ts';

/** The one workqueue key: every input affects the same decision. */
export const LABELER_KEY = 'gateway';

export interface GatewayLabelerOptions {
  pods: ResourceClient<GatewayPod>;
  leases: ResourceClient<Lease>;
  /** Namespace of the gateway Lease and the gateway pods. */
  namespace: string;
  /** Name of the gateway Lease. */
  leaseName: string;
  /** Label selector of the gateway pods. */
  podSelector: string;
  logger: Logger;
  /** Events on promoted/demoted pods. */
  recorder?: EventRecorder | undefined;
  metrics?: LabelerMetrics | undefined;
  workqueueMetrics?: WorkqueueMetricsSink | undefined;
  reconcileMetrics?: ReconcileMetricsSink | undefined;
  /** Wall clock (ms since the epoch) compared with the Lease's renewTime. Default Date.now. */
  now?: () => number;
  /** Slack added to the expiry re-check so it lands after the expiry. Default 5 ms. */
  expiryRecheckSlackMs?: number;
  /** Retry backoff after a conflict or failure: first delay and cap (ms). Default 10 / 2000. */
  retry?: { baseDelayMs?: number; maxDelayMs?: number };
  /** Informer tuning (tests). */
  informer?: { watchTimeoutSeconds?: number; maxSilenceMs?: number };
}

export interface ReconcilingOptions {
  /** Checked before every write (e.g. `elector.isLeader()`). */
  mayWrite: () => boolean;
  /** Aborted when writing is no longer allowed; aborts requests in flight. */
  signal?: AbortSignal | undefined;
}

interface OwnWrite {
  uid: string | undefined;
  pod: GatewayPod;
}

/** What the labeler has done, for logs, tests and benchmarks. */
export interface LabelerStats {
  reconciles: number;
  /** Reconciles that needed a fresh list of the pods. */
  freshLists: number;
  /** Lease re-reads caused by hints. */
  leaseRereads: number;
  promotions: number;
  demotions: number;
  /** Writes refused because the pod was no longer as read (precondition or resourceVersion); retried. */
  conflicts: number;
  /** Label latencies observed (seconds), most recent last (bounded). */
  latencies: number[];
}

const MAX_LATENCY_SAMPLES = 10_000;

/**
 * resourceVersions are opaque, but etcd's are increasing integers (what leader election compares too).
 * Anything else counts as newer, which errs towards a fresh list (safe) rather than a skipped one.
 */
export function rvNewer(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || a === b) return false;
  if (b === undefined) return true;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) > BigInt(b);
  return true;
}

/** Per pod name, the newer of the listed object and the one our own write returned (same pod only). */
function newestOf(listed: GatewayPod[], written: GatewayPod[]): GatewayPod[] {
  const mine = new Map(written.map((p) => [p.metadata.name, p]));
  return listed.map((p) => {
    const w = mine.get(p.metadata.name);
    return w && w.metadata.uid === p.metadata.uid && rvNewer(w.metadata.resourceVersion, p.metadata.resourceVersion) ? w : p;
  });
}

function holderOf(l: Lease): string {
  return l.spec?.holderIdentity ?? '';
}

export class GatewayLabeler {
  readonly podInformer: Informer<GatewayPod>;
  readonly leaseInformer: Informer<Lease>;
  readonly stats: LabelerStats = { reconciles: 0, freshLists: 0, leaseRereads: 0, promotions: 0, demotions: 0, conflicts: 0, latencies: [] };
  private readonly opts: GatewayLabelerOptions;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly leaseRef: string;
  /** Newest Lease seen (watch or re-read) and its resourceVersion. */
  private lease: Lease | undefined;
  private leaseRv: string | undefined;
  /** The pod that should be active according to the newest Lease seen, and since when (monotonic ms). */
  private effective = { holder: '', since: 0, pending: false };
  private readonly ownWrites = new Map<string, OwnWrite>();
  /** Pods (name → uid) a promotion of which failed without a clear answer (see PlanOptions.uncertain). */
  private readonly uncertain = new Map<string, string | undefined>();
  private rereadLease = false;
  private forceFresh = true;
  /** The first fresh read after starting to reconcile re-fences every non-holder pod (see reconcileOnce). */
  private takeover = true;
  private controller: Controller | undefined;
  private writing: ReconcilingOptions | undefined;
  private lifecycle: Promise<void> = Promise.resolve();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(opts: GatewayLabelerOptions) {
    if (!opts.namespace) throw new TypeError('labeler: namespace is required');
    if (!opts.leaseName) throw new TypeError('labeler: leaseName is required');
    if (!opts.podSelector) throw new TypeError('labeler: podSelector is required');
    this.opts = opts;
    this.log = opts.logger.child({ component: 'labeler' });
    this.now = opts.now ?? Date.now;
    this.leaseRef = `${opts.namespace}/${opts.leaseName}`;
    const tuning = {
      ...(opts.informer?.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: opts.informer.watchTimeoutSeconds } : {}),
      ...(opts.informer?.maxSilenceMs !== undefined ? { maxSilenceMs: opts.informer.maxSilenceMs } : {}),
    };
    this.podInformer = new Informer<GatewayPod>({
      client: opts.pods,
      namespace: opts.namespace,
      labelSelector: opts.podSelector,
      name: 'gateway pods',
      logger: this.log,
      ...tuning,
    });
    this.leaseInformer = new Informer<Lease>({
      client: opts.leases,
      namespace: opts.namespace,
      fieldSelector: `metadata.name=${opts.leaseName}`,
      name: `gateway lease ${this.leaseRef}`,
      logger: this.log,
      ...tuning,
    });
    this.unsubscribe.push(
      this.leaseInformer.addEventHandler({
        onAdd: (l) => this.observeLease(l, l.metadata.resourceVersion),
        onUpdate: (_o, l) => this.observeLease(l, l.metadata.resourceVersion),
        onDelete: (l) => this.observeLease(undefined, l.metadata.resourceVersion),
      }),
      this.podInformer.addEventHandler({
        onDelete: (p) => {
          const w = this.ownWrites.get(p.metadata.name);
          if (w && w.uid === p.metadata.uid) this.ownWrites.delete(p.metadata.name);
          if (this.uncertain.get(p.metadata.name) === p.metadata.uid) this.uncertain.delete(p.metadata.name);
        },
      }),
    );
  }

  /** Starts both informers (idempotent); caches stay warm whether or not this instance reconciles. */
  start(): void {
    this.podInformer.start();
    this.leaseInformer.start();
  }

  hasSynced(): boolean {
    return this.podInformer.hasSynced() && this.leaseInformer.hasSynced();
  }

  async waitForSync(opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    await Promise.all([this.podInformer.waitForSync(opts), this.leaseInformer.waitForSync(opts)]);
  }

  /** True while reconciling (this instance may write). */
  get reconciling(): boolean {
    return this.controller !== undefined;
  }

  /**
   * Starts reconciling: a controller over both informers, whose workers run once the caches have synced.
   * The first reconcile always lists the pods afresh. Serialised with stopReconciling().
   */
  startReconciling(opts: ReconcilingOptions): Promise<void> {
    this.lifecycle = this.lifecycle.then(async () => {
      await this.stopController();
      if (opts.signal?.aborted) return;
      this.writing = opts;
      this.ownWrites.clear();
      this.forceFresh = true;
      this.takeover = true;
      // Label latency counts from when this instance could act, not from a change seen while it was a standby.
      if (this.effective.pending) this.effective.since = performance.now();
      const c = new Controller({
        name: 'labeler',
        logger: this.log,
        reconcile: () => this.reconcile(),
        queue: { baseDelayMs: this.opts.retry?.baseDelayMs ?? 10, maxDelayMs: this.opts.retry?.maxDelayMs ?? 2000 },
        workqueueMetrics: this.opts.workqueueMetrics,
        reconcileMetrics: this.opts.reconcileMetrics,
      });
      c.watch(this.podInformer, {
        keys: () => LABELER_KEY,
        // Only what changes the decision: the role label, or a different pod under the same name.
        updateFilter: (o, n) => o === n || currentRole(o) !== currentRole(n) || o.metadata.uid !== n.metadata.uid,
      });
      c.watch(this.leaseInformer, {
        keys: () => LABELER_KEY,
        // Renewals by the same holder change nothing; a new holder, a release or a revival do.
        updateFilter: (o, n) => {
          const now = this.now();
          return o === n || holderOf(o) !== holderOf(n) || activeHolder(leaseVerdict(o, now)) !== activeHolder(leaseVerdict(n, now));
        },
      });
      this.controller = c;
      this.log.info({ lease: this.leaseRef, selector: this.opts.podSelector }, 'reconciling gateway pod labels');
      await c.start();
      c.enqueue(LABELER_KEY);
    });
    return this.lifecycle;
  }

  /** Stops reconciling after the reconcile in flight; nothing is written afterwards. */
  stopReconciling(): Promise<void> {
    this.lifecycle = this.lifecycle.then(() => this.stopController());
    return this.lifecycle;
  }

  /**
   * A hint (e.g. the NATS leader message): the next reconcile re-reads the Lease from the API server instead
   * of waiting for the watch. The hint's content is never trusted.
   */
  hint(source: string): void {
    this.rereadLease = true;
    this.log.debug({ source }, 'leader hint: re-reading the gateway Lease');
    this.controller?.enqueue(LABELER_KEY);
  }

  /** Stops reconciling and both informers. */
  async stop(): Promise<void> {
    await this.stopReconciling();
    for (const u of this.unsubscribe.splice(0)) u();
    await Promise.all([this.podInformer.stop(), this.leaseInformer.stop()]);
  }

  private async stopController(): Promise<void> {
    const c = this.controller;
    this.controller = undefined;
    this.writing = undefined;
    if (c) {
      await c.stop();
      this.log.info('stopped reconciling gateway pod labels');
    }
  }

  private mayWrite(): boolean {
    const w = this.writing;
    return w !== undefined && !w.signal?.aborted && w.mayWrite();
  }

  /** Records a Lease state if it is not older than the newest one seen. */
  private observeLease(lease: Lease | undefined, rv: string | undefined): void {
    if (rv !== undefined && this.leaseRv !== undefined && rv !== this.leaseRv && !rvNewer(rv, this.leaseRv)) return;
    this.lease = lease;
    this.leaseRv = rv;
    this.noteVerdict(leaseVerdict(lease, this.now()));
  }

  /** Starts the label-latency clock when the pod that should be active changes. */
  private noteVerdict(v: LeaseVerdict): void {
    const holder = activeHolder(v);
    if (holder === this.effective.holder) return;
    this.effective = { holder, since: performance.now(), pending: holder !== '' };
  }

  /** Cached pods, each replaced by this labeler's own write when the cache has not caught up with it yet. */
  private believedPods(): GatewayPod[] {
    return this.podInformer.list().map((p) => {
      const w = this.ownWrites.get(p.metadata.name);
      if (!w || w.uid !== p.metadata.uid) return p;
      if (rvNewer(w.pod.metadata.resourceVersion, p.metadata.resourceVersion)) return w.pod;
      this.ownWrites.delete(p.metadata.name); // the cache has it now
      return p;
    });
  }

  private requeueFor(v: LeaseVerdict): ReconcileResult | void {
    if (v.state !== 'held') return;
    return { requeueAfter: Math.max(1, v.expiresAtMs - this.now() + (this.opts.expiryRecheckSlackMs ?? 5)) };
  }

  private async reconcile(): Promise<ReconcileResult | void> {
    if (!this.mayWrite()) return;
    this.stats.reconciles++;
    try {
      return await this.reconcileOnce();
    } catch (err) {
      this.forceFresh = true; // whatever happened, the next attempt starts from a fresh read
      throw err;
    }
  }

  private async reconcileOnce(): Promise<ReconcileResult | void> {
    const { namespace, leaseName } = this.opts;
    const signal = this.writing?.signal;
    if (this.rereadLease) {
      this.rereadLease = false;
      this.stats.leaseRereads++;
      const lease = await this.opts.leases.get({ namespace, name: leaseName }, { signal });
      this.observeLease(lease, lease?.metadata.resourceVersion);
    }

    const believed = this.believedPods();
    let desired = desiredRoles(this.lease, believed, this.now());
    this.noteVerdict(desired.verdict);
    const early = planLabels(believed, desired, { uncertain: this.uncertain });
    if (!this.forceFresh && planIsEmpty(early)) {
      if (desired.active !== undefined && desired.active === this.effective.holder) this.effective.pending = false;
      return this.requeueFor(desired.verdict);
    }

    // Promote only from a fresh read: the cache may lag behind the server. Standby writes are safe whatever
    // the state, so the ones the cache already calls for run while the pods are listed (one round trip less).
    this.stats.freshLists++;
    this.forceFresh = false;
    const standbyFirst: LabelPlan = { demote: early.demote, label: early.label, promote: undefined };
    const applyOpts = { pods: this.opts.pods, namespace, mayWrite: () => this.mayWrite(), signal };
    const [listed, first] = await Promise.all([
      this.opts.pods.list({ namespace, labelSelector: this.opts.podSelector, signal }),
      planIsEmpty(standbyFirst) ? undefined : applyLabelPlan(standbyFirst, applyOpts),
    ]);
    if (first) this.record(standbyFirst, first, desired.verdict);
    const fresh = newestOf(listed.items, first?.written.map((w) => w.pod) ?? []);
    if (this.takeover) {
      // A previous leader (or this one, before a restart of reconciling) may have a write still in flight:
      // a fresh fence token on every pod that is not to be active makes sure it cannot land any more.
      this.takeover = false;
      const justWritten = new Set(first?.written.map((w) => w.change.name));
      for (const p of fresh) if (!justWritten.has(p.metadata.name)) this.uncertain.set(p.metadata.name, p.metadata.uid);
    }

    desired = desiredRoles(this.lease, fresh, this.now());
    this.noteVerdict(desired.verdict);
    const plan = planLabels(fresh, desired, { uncertain: this.uncertain });
    if (planIsEmpty(plan)) {
      if (desired.active !== undefined && desired.active === this.effective.holder) this.effective.pending = false;
      if (first && !first.complete && first.failed.some((f) => f.reason === 'error')) return { requeue: true };
      return this.requeueFor(desired.verdict);
    }
    if (desired.active === undefined) this.log.debug({ reason: describeVerdict(desired.verdict, this.leaseRef) }, 'no gateway pod should be active');

    const outcome = await applyLabelPlan(plan, {
      ...applyOpts,
      // The Lease may have moved on while the demotions ran.
      stillWanted: (c) => activeHolder(leaseVerdict(this.lease, this.now())) === c.name,
    });
    this.record(plan, outcome, desired.verdict);
    if (!outcome.complete) {
      if (!this.mayWrite()) return;
      this.forceFresh = true;
      this.stats.conflicts += outcome.failed.filter((f) => f.reason === 'conflict' || f.reason === 'precondition').length;
      const level = outcome.failed.some((f) => f.reason === 'error') ? 'warn' : 'debug';
      this.log[level](
        { failed: outcome.failed.map((f) => ({ pod: f.change.name, to: f.change.to, reason: f.reason, status: f.status, err: f.error })), heldBack: outcome.heldBack },
        'label changes incomplete; re-reading and retrying',
      );
      return { requeue: true };
    }
    return this.requeueFor(leaseVerdict(this.lease, this.now()));
  }

  private record(plan: LabelPlan, outcome: ApplyOutcome, verdict: LeaseVerdict): void {
    const why = describeVerdict(verdict, this.leaseRef);
    for (const change of outcome.gone) this.uncertain.delete(change.name);
    for (const f of outcome.failed) {
      // A promotion that failed without a clear answer may still be applied later: keep demoting that pod
      // (unless it becomes the holder) until one of our writes to it succeeds.
      if (f.change.to === GATEWAY_ROLE_ACTIVE && f.reason === 'error') this.uncertain.set(f.change.name, f.change.uid);
    }
    for (const { change, pod } of outcome.written) {
      this.uncertain.delete(change.name);
      this.ownWrites.set(change.name, { uid: pod.metadata.uid, pod });
      const to: GatewayRole = change.to;
      this.opts.metrics?.transition(to);
      if (to === GATEWAY_ROLE_ACTIVE) {
        this.stats.promotions++;
        let latencyMs: number | undefined;
        if (this.effective.pending && this.effective.holder === change.name) {
          latencyMs = performance.now() - this.effective.since;
          this.effective.pending = false;
          this.opts.metrics?.labelLatency(latencyMs / 1000);
          this.stats.latencies.push(latencyMs / 1000);
          if (this.stats.latencies.length > MAX_LATENCY_SAMPLES) this.stats.latencies.shift();
        }
        this.log.info({ pod: change.name, from: change.from, to, latencyMs: latencyMs === undefined ? undefined : Math.round(latencyMs * 10) / 10 }, 'gateway pod promoted');
        void this.opts.recorder?.normal(pod, 'Promoted', `Labelled net.strait.io/gateway=active: ${why}.`, { action: 'Label', descriptor: PodResource });
      } else if (change.from === GATEWAY_ROLE_ACTIVE) {
        this.stats.demotions++;
        this.log.info({ pod: change.name, from: change.from, to, reason: why }, 'gateway pod demoted');
        void this.opts.recorder?.normal(pod, 'Demoted', `Labelled net.strait.io/gateway=standby (was active): ${why}.`, { action: 'Label', descriptor: PodResource });
      } else {
        this.log.debug({ pod: change.name, from: change.from, to }, 'gateway pod labelled');
      }
    }
    if (plan.promote && !outcome.promoted && outcome.heldBack) this.log.debug({ pod: plan.promote.name, heldBack: outcome.heldBack }, 'promotion held back');
  }
}
