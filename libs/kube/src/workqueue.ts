/**
 * Per-key rate-limited work queue with the semantics of client-go's workqueue:
 *  - dedup: a key added while it is already waiting is queued once;
 *  - a key added while a worker processes it is queued again after done(): never processed concurrently;
 *  - addRateLimited: per-key exponential backoff (base·2^failures, capped), forget() resets it;
 *  - addAfter: delayed add; when a key is already waiting for a later time, the earlier time wins;
 *  - run(handler, { concurrency }): N workers; shutdown() either drains (finish everything queued) or stops
 *    after the items in flight.
 */
import type { WorkqueueMetricsSink } from './metrics.ts';

export interface WorkQueueOptions {
  /** For logs and metrics. */
  name?: string;
  /** First retry delay of addRateLimited (ms). Default 10. */
  baseDelayMs?: number;
  /** Retry delay cap (ms). Default 300 000. */
  maxDelayMs?: number;
  metrics?: WorkqueueMetricsSink | undefined;
}

/**
 * What a handler run by {@link WorkQueue.run} may return: nothing (done, forget the failures),
 * `{ requeueAfter }` (done, forget, come back later) or `{ requeue: true }` (retry with backoff).
 * A thrown error also retries with backoff.
 */
export type WorkResult = void | undefined | { requeueAfter?: number | undefined; requeue?: boolean | undefined };

export interface ShutdownOptions {
  /** true: wait until every queued item has been processed (delayed ones are dropped). false (default): stop after the items in flight. */
  drain?: boolean;
}

export class WorkQueue<K = string> {
  readonly name: string;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly metrics: WorkqueueMetricsSink | undefined;
  private queue: K[] = [];
  private head = 0;
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly addedAt = new Map<K, number>();
  private readonly startedAt = new Map<K, number>();
  private readonly failures = new Map<K, number>();
  private readonly waiting = new Map<K, { at: number; timer: NodeJS.Timeout }>();
  private getters: Array<(k: K | undefined) => void> = [];
  private idleWaiters: Array<() => void> = [];
  private shuttingDown = false;
  private draining = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.name = opts.name ?? 'workqueue';
    this.baseDelayMs = opts.baseDelayMs ?? 10;
    this.maxDelayMs = opts.maxDelayMs ?? 300_000;
    this.metrics = opts.metrics;
    if (!(this.baseDelayMs > 0) || !(this.maxDelayMs >= this.baseDelayMs)) {
      throw new RangeError(`workqueue ${this.name}: need 0 < baseDelayMs <= maxDelayMs`);
    }
  }

  /** Number of keys waiting to be processed (not counting delayed or in-flight ones). */
  len(): number {
    return this.queue.length - this.head;
  }

  /** Keys currently being processed. */
  inFlight(): number {
    return this.processing.size;
  }

  /** Keys waiting for a delayed add. */
  delayed(): number {
    return this.waiting.size;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  add(key: K): void {
    if (this.shuttingDown) return;
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    this.metrics?.added();
    this.addedAt.set(key, performance.now());
    if (this.processing.has(key)) return; // re-queued by done()
    this.push(key);
  }

  /** Adds the key after `delayMs`. If it is already scheduled earlier, the earlier time is kept. */
  addAfter(key: K, delayMs: number): void {
    if (this.shuttingDown) return;
    if (!(delayMs > 0)) return this.add(key);
    const at = performance.now() + delayMs;
    const cur = this.waiting.get(key);
    if (cur && cur.at <= at) return;
    if (cur) clearTimeout(cur.timer);
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.waiting.set(key, { at, timer });
  }

  /** Retries the key after its per-key exponential backoff. */
  addRateLimited(key: K): void {
    if (this.shuttingDown) return;
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.metrics?.retried();
    this.addAfter(key, this.backoffFor(n));
  }

  /** The delay the next addRateLimited of the key would use. */
  whenNext(key: K): number {
    return this.backoffFor(this.failures.get(key) ?? 0);
  }

  /** Clears the key's failure count (call after a success). */
  forget(key: K): void {
    this.failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** Next key to process, or undefined once the queue is shut down (and, when draining, empty). Pair with done(). */
  get(): Promise<K | undefined> {
    if (this.len() > 0) return Promise.resolve(this.take());
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks the key as processed; if it was added meanwhile it is queued again now. */
  done(key: K): void {
    if (!this.processing.delete(key)) return;
    const started = this.startedAt.get(key);
    this.startedAt.delete(key);
    if (started !== undefined) this.metrics?.worked((performance.now() - started) / 1000);
    if (this.dirty.has(key)) {
      if (this.shuttingDown && !this.draining) {
        this.dirty.delete(key);
        this.addedAt.delete(key);
      } else this.push(key);
    }
    this.checkIdle();
  }

  /**
   * Runs `concurrency` workers until shutdown. A handler that throws or returns `{ requeue: true }` is
   * retried with backoff; `{ requeueAfter }` re-adds after that delay; otherwise the key's failures are forgotten.
   * `onError` is told about thrown errors (for logs). Resolves when every worker has stopped.
   */
  async run(
    handler: (key: K) => Promise<WorkResult>,
    opts: { concurrency?: number; onError?: (key: K, err: unknown) => void } = {},
  ): Promise<void> {
    const concurrency = opts.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`workqueue ${this.name}: concurrency must be a positive integer`);
    const worker = async () => {
      for (;;) {
        const key = await this.get();
        if (key === undefined) return;
        try {
          const r = await handler(key);
          if (r && r.requeue) this.addRateLimited(key);
          else {
            this.forget(key);
            if (r && r.requeueAfter !== undefined && r.requeueAfter >= 0) this.addAfter(key, r.requeueAfter);
          }
        } catch (err) {
          opts.onError?.(key, err);
          this.addRateLimited(key);
        } finally {
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  /**
   * Stops accepting new keys and cancels delayed adds. With `drain`, workers finish every queued key
   * first; otherwise queued keys are dropped and only in-flight ones complete. Resolves when no key is in flight.
   */
  async shutdown(opts: ShutdownOptions = {}): Promise<void> {
    this.shuttingDown = true;
    this.draining = opts.drain ?? false;
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    this.waiting.clear();
    if (!this.draining) {
      for (let i = this.head; i < this.queue.length; i++) {
        this.dirty.delete(this.queue[i] as K);
        this.addedAt.delete(this.queue[i] as K);
      }
      this.queue = [];
      this.head = 0;
      this.metrics?.setDepth(0);
    }
    if (this.len() === 0) this.releaseGetters();
    await new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  private backoffFor(failures: number): number {
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(failures, 60));
  }

  private push(key: K): void {
    const getter = this.getters.shift();
    if (getter) {
      // hand over directly (queue is empty whenever a getter waits)
      this.queue.push(key);
      getter(this.take());
      return;
    }
    this.queue.push(key);
    this.metrics?.setDepth(this.len());
  }

  private take(): K {
    const key = this.queue[this.head] as K;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.dirty.delete(key);
    this.processing.add(key);
    const added = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (added !== undefined) this.metrics?.queued((performance.now() - added) / 1000);
    this.startedAt.set(key, performance.now());
    this.metrics?.setDepth(this.len());
    return key;
  }

  private releaseGetters(): void {
    for (const g of this.getters.splice(0)) g(undefined);
  }

  private checkIdle(): void {
    if (!this.shuttingDown) return;
    if (this.len() === 0) this.releaseGetters();
    if (this.processing.size === 0 && this.len() === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
