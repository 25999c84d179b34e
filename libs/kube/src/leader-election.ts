/**
 * Leader election on a coordination.k8s.io/v1 Lease.
 *
 * Safety (never two leaders): a leader counts its lease from the local monotonic time at which it STARTED
 * its last successful renew (the write reached the server later, so every other contender, which counts
 * `leaseDuration` from when it observed that write, sees the lease expire later still). It stops leading once
 * `renewDeadline` (< leaseDuration) has passed since then — by a timer, and `isLeader()` is computed from the
 * clock so it is false even if that timer is late. All writes carry the observed resourceVersion, so of two
 * contenders racing for a free lease exactly one wins (the other gets 409).
 *
 * Speed: the Lease is also watched. A released Lease (holderIdentity cleared by `stop()`) or a deleted one
 * wakes every contender at once instead of at its next retry; an attempt is also scheduled exactly when
 * the observed lease expires, so a crashed leader is replaced about `leaseDuration` after its last renew.
 */
import type { Logger } from 'pino';
import { Waker } from './backoff.ts';
import type { ResourceClient } from './cr-client.ts';
import type { ObjectMetaLike } from './descriptor.ts';
import { isConflict } from './errors.ts';
import { Informer } from './informer.ts';
import type { LeaderMetricsSink } from './metrics.ts';

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  /** MicroTime (RFC 3339 with microseconds). */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMetaLike & { name: string; namespace?: string };
  spec?: LeaseSpec;
}

export interface LeaderCallbacks {
  /** This contender became leader. `signal` aborts when it stops leading. */
  onStartedLeading?(signal: AbortSignal): void;
  /** This contender stopped leading (renew deadline passed, lease lost, or stop()). Called before the lease is released. */
  onStoppedLeading?(): void;
  /** The observed leader changed (including to this contender). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionOptions {
  /** A client for coordination.k8s.io/v1 Leases (CrClient with LeaseResource, or the fake's). */
  client: ResourceClient<Lease>;
  namespace: string;
  name: string;
  /** Unique per contender (e.g. pod name). */
  identity: string;
  /** How long others wait after the last observed renew before taking over. Default 15 000. Written to the Lease in whole seconds (rounded up). */
  leaseDurationMs?: number;
  /** A leader that could not renew for this long stops leading. Must be < leaseDurationMs. Default 10 000. */
  renewDeadlineMs?: number;
  /** Interval between acquire/renew attempts. Default 2 000. */
  retryPeriodMs?: number;
  /** Watch the Lease to take over a released lease at once. Default true. */
  watch?: boolean;
  callbacks?: LeaderCallbacks;
  logger?: Logger | undefined;
  metrics?: LeaderMetricsSink | undefined;
}

/** A service's leader-election settings, as its `--lease-name` / `--lease-duration` / `--renew-deadline` / `--retry-period` give them. */
export interface LeaseSettings {
  readonly leaseName: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

/** The {@link LeaderElectionOptions} that {@link LeaseSettings} decide. */
export function leaseElectionOptions(s: LeaseSettings): Pick<LeaderElectionOptions, 'name' | 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'> {
  return { name: s.leaseName, leaseDurationMs: s.leaseDurationMs, renewDeadlineMs: s.renewDeadlineMs, retryPeriodMs: s.retryPeriodMs };
}

interface Observed {
  holder: string;
  resourceVersion: string;
  durationMs: number;
  /** Local monotonic time at which this record was first seen. */
  at: number;
}

function microTime(d = new Date()): string {
  return d.toISOString().replace(/Z$/, '000Z');
}

function rvNumber(rv: string | undefined): number | undefined {
  if (!rv || !/^\d+$/.test(rv)) return undefined;
  return Number(rv);
}

export class LeaderElector {
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  private readonly opts: LeaderElectionOptions;
  private readonly log: Logger | undefined;
  private readonly waker = new Waker();
  private readonly stopper = new AbortController();
  private informer: Informer<Lease> | undefined;
  private loop: Promise<void> | undefined;
  private observed: Observed | undefined;
  private reportedLeader: string | undefined;
  private leading = false;
  private lastRenew = 0;
  private nextAttemptAt = 0;
  private attemptedRv: string | undefined;
  private deletions = 0;
  private leaderAbort: AbortController | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;

  constructor(opts: LeaderElectionOptions) {
    this.opts = opts;
    this.identity = opts.identity;
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.log = opts.logger?.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
    if (!opts.identity) throw new TypeError('leader election: identity is required');
    if (!opts.name || !opts.namespace) throw new TypeError('leader election: lease namespace and name are required');
    if (!(this.retryPeriodMs > 0)) throw new RangeError('leader election: retryPeriodMs must be > 0');
    if (!(this.renewDeadlineMs > this.retryPeriodMs)) throw new RangeError('leader election: renewDeadlineMs must be > retryPeriodMs');
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) throw new RangeError('leader election: leaseDurationMs must be > renewDeadlineMs');
  }

  /** Starts contending (idempotent). */
  start(): void {
    if (this.loop) return;
    if (this.stopper.signal.aborted) throw new Error('leader election: cannot start after stop()');
    this.opts.metrics?.setLeader(false);
    if (this.opts.watch ?? true) {
      this.informer = new Informer<Lease>({
        client: this.opts.client,
        namespace: this.opts.namespace,
        fieldSelector: `metadata.name=${this.opts.name}`,
        name: `lease ${this.opts.namespace}/${this.opts.name}`,
        logger: this.opts.logger,
        backoff: { initialMs: Math.min(250, this.retryPeriodMs), maxMs: Math.max(this.retryPeriodMs, 2_000) },
      });
      this.informer.addEventHandler({
        onAdd: (l) => this.onLeaseEvent(l),
        onUpdate: (_o, l) => this.onLeaseEvent(l),
        onDelete: () => {
          // Deleted lease: free for the taking.
          this.observed = { holder: '', resourceVersion: `deleted-${++this.deletions}`, durationMs: 0, at: performance.now() };
          if (!this.leading) this.waker.wake();
        },
      });
      this.informer.start();
    }
    this.loop = this.run();
  }

  /**
   * Stops contending. If leading, stops leading first (onStoppedLeading), then — unless `release: false`
   * (which simulates a crash) — releases the Lease so another contender takes over at once.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (this.stopper.signal.aborted) return;
    this.stopper.abort();
    this.waker.wake();
    this.stepDown('stopping');
    await this.loop;
    await this.informer?.stop();
    if (opts.release ?? true) await this.release();
  }

  /** True while leading: also false as soon as the renew deadline has passed, even before the step-down callback ran. */
  isLeader(): boolean {
    return this.leading && performance.now() - this.lastRenew < this.renewDeadlineMs;
  }

  /** The holder as last observed ('' when the lease is free, undefined when not observed yet). */
  leader(): string | undefined {
    return this.observed?.holder;
  }

  private async run(): Promise<void> {
    const stop = this.stopper.signal;
    while (!stop.aborted) {
      if (!this.leading) {
        // Known to be held by someone else and not expired: no request needed before the next retry
        // (the watch wakes us on a release; the expiry time is planned for).
        if (this.heldByOther() && performance.now() < this.nextAttemptAt) {
          await this.waker.wait(this.candidateWait(), stop);
          continue;
        }
        const r = await this.tryAcquireOrRenew();
        this.nextAttemptAt = performance.now() + this.retryPeriodMs * (1 + 0.2 * Math.random());
        this.attemptedRv = this.observed?.resourceVersion;
        if (stop.aborted) break;
        if (r.ok) {
          if (performance.now() - r.startedAt >= this.renewDeadlineMs) {
            // Acquired, but the write took longer than the renew deadline: leading now would end at once.
            // Count it as a miss; the lease names us, so the next attempt (at once) renews it in time.
            this.log?.warn({ tookMs: Math.round(performance.now() - r.startedAt) }, 'acquired the lease only after the renew deadline; trying again');
            this.nextAttemptAt = performance.now();
            continue;
          }
          this.becomeLeader(r.startedAt);
          continue;
        }
        await this.waker.wait(this.candidateWait(), stop);
      } else {
        await this.waker.wait(this.retryPeriodMs, stop);
        if (stop.aborted || !this.leading) continue;
        const remaining = this.lastRenew + this.renewDeadlineMs - performance.now();
        if (remaining <= 0) {
          this.stepDown('renew deadline passed');
          continue;
        }
        const r = await this.tryAcquireOrRenew(remaining);
        if (stop.aborted || !this.leading) continue;
        if (r.ok) {
          if (performance.now() - this.lastRenew >= this.renewDeadlineMs) {
            // Renewed, but only after the deadline: leadership already lapsed locally. Step down cleanly;
            // the lease is ours, so the next acquire attempt takes it again at once.
            this.stepDown('renewed after the deadline');
          } else {
            this.lastRenew = r.startedAt;
            this.armDeadline();
          }
        } else if (r.lost) {
          this.stepDown(`lease taken by ${r.holder}`);
        }
      }
    }
  }

  /** One attempt; resolves (never rejects). `startedAt` is taken before the first request. */
  private async tryAcquireOrRenew(
    timeoutMs: number = this.renewDeadlineMs,
  ): Promise<{ ok: true; startedAt: number } | { ok: false; lost: boolean; holder?: string }> {
    const startedAt = performance.now();
    const signal = AbortSignal.any([this.stopper.signal, AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs)))]);
    const { client, namespace, name } = this.opts;
    const now = microTime();
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    try {
      const lease = await client.get({ namespace, name }, { signal });
      if (!lease) {
        const created = await client.create(
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: { holderIdentity: this.identity, leaseDurationSeconds: durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
          },
          { signal },
        );
        this.observe(created);
        return { ok: true, startedAt };
      }
      this.observe(lease);
      const spec = lease.spec ?? {};
      const holder = spec.holderIdentity ?? '';
      const o = this.observed;
      if (holder && holder !== this.identity && o && performance.now() < o.at + o.durationMs) {
        return { ok: false, lost: true, holder };
      }
      const mine = holder === this.identity;
      const updated = await client.replace(
        {
          ...lease,
          spec: {
            ...spec,
            holderIdentity: this.identity,
            leaseDurationSeconds: durationSeconds,
            renewTime: now,
            acquireTime: mine && spec.acquireTime ? spec.acquireTime : now,
            leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
          },
        },
        { signal },
      );
      this.observe(updated);
      if (!mine) this.log?.info({ previous: holder || undefined }, 'acquired lease');
      return { ok: true, startedAt };
    } catch (err) {
      if (!this.stopper.signal.aborted) {
        const msg = err instanceof Error ? err.message : String(err);
        if (isConflict(err)) this.log?.debug({ err: msg }, 'lost a race for the lease');
        else this.log?.warn({ err: msg, leading: this.leading }, 'lease acquire/renew failed');
      }
      return { ok: false, lost: false };
    }
  }

  private onLeaseEvent(lease: Lease): void {
    this.observe(lease);
    // A candidate re-plans on every change: a free lease is tried at once, a held one waits for its new expiry.
    if (!this.leading) this.waker.wake();
  }

  private heldByOther(): boolean {
    const o = this.observed;
    return Boolean(o && o.holder && o.holder !== this.identity && performance.now() < o.at + o.durationMs);
  }

  /** Until the next retry, or just past the observed expiry if that comes first. */
  private candidateWait(): number {
    const now = performance.now();
    let until = this.nextAttemptAt;
    const o = this.observed;
    if (o && o.holder && o.holder !== this.identity) until = Math.min(until, o.at + o.durationMs + 1);
    else if (o && o.resourceVersion !== this.attemptedRv) until = now; // freed (or ours) since the last attempt: try at once
    return Math.max(0, until - now);
  }

  private observe(lease: Lease): void {
    const rv = lease.metadata.resourceVersion ?? '';
    const cur = this.observed;
    if (cur && cur.resourceVersion === rv) return;
    const a = rvNumber(rv);
    const b = rvNumber(cur?.resourceVersion);
    if (a !== undefined && b !== undefined && a < b) return; // older than what we have (late watch event)
    const holder = lease.spec?.holderIdentity ?? '';
    const durationMs = Math.max(1, lease.spec?.leaseDurationSeconds ?? Math.ceil(this.leaseDurationMs / 1000)) * 1000;
    this.observed = { holder, resourceVersion: rv, durationMs, at: performance.now() };
    if (holder && holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      this.log?.info({ leader: holder }, 'new leader observed');
      try {
        this.opts.callbacks?.onNewLeader?.(holder);
      } catch (err) {
        this.log?.error({ err: err instanceof Error ? err.message : String(err) }, 'onNewLeader threw');
      }
    }
  }

  private becomeLeader(startedAt: number): void {
    this.leading = true;
    this.lastRenew = startedAt;
    this.leaderAbort = new AbortController();
    this.armDeadline();
    this.opts.metrics?.setLeader(true);
    this.log?.info('started leading');
    try {
      this.opts.callbacks?.onStartedLeading?.(this.leaderAbort.signal);
    } catch (err) {
      this.log?.error({ err: err instanceof Error ? err.message : String(err) }, 'onStartedLeading threw');
    }
  }

  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    const at = this.lastRenew + this.renewDeadlineMs;
    this.deadlineTimer = setTimeout(() => {
      if (this.leading && performance.now() >= this.lastRenew + this.renewDeadlineMs) this.stepDown('renew deadline passed');
      else if (this.leading) this.armDeadline();
    }, Math.max(1, at - performance.now()));
  }

  private stepDown(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    clearTimeout(this.deadlineTimer);
    this.leaderAbort?.abort();
    this.opts.metrics?.setLeader(false);
    if (reason === 'stopping') this.log?.info('stopped leading (stopping)');
    else this.log?.warn({ reason }, 'stopped leading');
    try {
      this.opts.callbacks?.onStoppedLeading?.();
    } catch (err) {
      this.log?.error({ err: err instanceof Error ? err.message : String(err) }, 'onStoppedLeading threw');
    }
    this.waker.wake();
  }

  /** Clears holderIdentity if we still hold the lease, so others take over without waiting for expiry. */
  private async release(): Promise<void> {
    const { client, namespace, name } = this.opts;
    const signal = AbortSignal.timeout(Math.ceil(this.renewDeadlineMs));
    try {
      const lease = await client.get({ namespace, name }, { signal });
      if (!lease || (lease.spec?.holderIdentity ?? '') !== this.identity) return;
      const now = microTime();
      await client.replace(
        { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now } },
        { signal },
      );
      this.log?.info('released lease');
    } catch (err) {
      this.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'failed to release lease; others take over when it expires');
    }
  }
}
