/**
 * Reconciler harness: informers → per-key workqueue → `reconcile(key)`.
 *  - keys are `namespace/name` (or `name`) by default, or whatever `keys(obj)` maps an object to;
 *  - a key is never reconciled concurrently with itself; N keys run in parallel (`concurrency`);
 *  - reconcile throws → retried with per-key exponential backoff; `{ requeue: true }` → same;
 *    `{ requeueAfter: ms }` → reconciled again after that delay; otherwise the key's backoff is forgotten;
 *  - workers start only after every informer has synced (reconcile sees a complete cache).
 */
import type { Logger } from 'pino';
import { objectKey, type KubeObject } from './descriptor.ts';
import { httpStatusOf } from './errors.ts';
import type { Informer } from './informer.ts';
import type { ReconcileMetricsSink, WorkqueueMetricsSink } from './metrics.ts';
import { WorkQueue, type WorkQueueOptions } from './workqueue.ts';

export interface ReconcileResult {
  /** Reconcile this key again after this many ms (not an error: backoff is reset). */
  requeueAfter?: number;
  /** Retry with the per-key backoff (like an error, without logging one). */
  requeue?: boolean;
}

export interface ControllerOptions {
  name: string;
  logger: Logger;
  reconcile: (key: string) => Promise<ReconcileResult | void>;
  /** Parallel reconciles of different keys. Default 1. */
  concurrency?: number;
  queue?: Omit<WorkQueueOptions, 'name' | 'metrics'>;
  workqueueMetrics?: WorkqueueMetricsSink | undefined;
  reconcileMetrics?: ReconcileMetricsSink | undefined;
}

export interface ControllerWatchOptions<T> {
  /** Keys to enqueue for an object; default its own key. Return [] (or undefined) to ignore it. */
  keys?: (obj: T) => string | string[] | undefined;
  /** Filter for updates; default: enqueue every update whose resourceVersion changed. */
  updateFilter?: (oldObj: T, newObj: T) => boolean;
}

/** Update filter: only spec changes (metadata.generation) or deletion starting. Status-only writes are ignored. */
export function generationChanged<T extends KubeObject>(oldObj: T, newObj: T): boolean {
  return (
    oldObj.metadata?.generation !== newObj.metadata?.generation ||
    Boolean(oldObj.metadata?.deletionTimestamp) !== Boolean(newObj.metadata?.deletionTimestamp)
  );
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue<string>;
  private readonly opts: ControllerOptions;
  private readonly log: Logger;
  private readonly informers: Array<Informer<KubeObject>> = [];
  private readonly startedInformers: Array<Informer<KubeObject>> = [];
  private readonly unsubscribers: Array<() => void> = [];
  private workers: Promise<void> | undefined;
  private stopped = false;

  constructor(opts: ControllerOptions) {
    if (!opts.name) throw new TypeError('controller: name is required');
    if (typeof opts.reconcile !== 'function') throw new TypeError(`controller ${opts.name}: reconcile must be a function`);
    this.opts = opts;
    this.name = opts.name;
    this.log = opts.logger.child({ controller: opts.name });
    this.queue = new WorkQueue<string>({ ...opts.queue, name: opts.name, metrics: opts.workqueueMetrics });
  }

  /** Enqueues keys from an informer's events. Call before start(). */
  watch<T extends KubeObject>(informer: Informer<T>, opts: ControllerWatchOptions<T> = {}): this {
    const keysOf = (obj: T): string[] => {
      const k = opts.keys ? opts.keys(obj) : objectKey(obj);
      return k === undefined ? [] : Array.isArray(k) ? k : [k];
    };
    const filter =
      opts.updateFilter ?? ((o: T, n: T) => o.metadata?.resourceVersion !== n.metadata?.resourceVersion || o === n);
    this.informers.push(informer as unknown as Informer<KubeObject>);
    this.unsubscribers.push(
      informer.addEventHandler({
        onAdd: (obj) => keysOf(obj).forEach((k) => this.queue.add(k)),
        onUpdate: (o, n) => {
          if (filter(o, n)) keysOf(n).forEach((k) => this.queue.add(k));
        },
        onDelete: (obj) => keysOf(obj).forEach((k) => this.queue.add(k)),
      }),
    );
    return this;
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  enqueueAfter(key: string, delayMs: number): void {
    this.queue.addAfter(key, delayMs);
  }

  /** Starts informers that are not running, waits until all synced, then starts the workers. */
  async start(opts: { syncTimeoutMs?: number } = {}): Promise<void> {
    if (this.workers) return;
    if (this.stopped) throw new Error(`controller ${this.name}: cannot start after stop()`);
    for (const inf of this.informers) {
      if (!inf.isStarted) {
        inf.start();
        this.startedInformers.push(inf);
      }
    }
    await Promise.all(this.informers.map((i) => i.waitForSync(opts.syncTimeoutMs !== undefined ? { timeoutMs: opts.syncTimeoutMs } : {})));
    this.log.info({ concurrency: this.opts.concurrency ?? 1 }, 'caches synced; starting workers');
    this.workers = this.queue.run((key) => this.reconcileOne(key), {
      concurrency: this.opts.concurrency ?? 1,
    });
  }

  /**
   * Stops workers (after in-flight reconciles; with `drain`, after everything queued) and the informers
   * this controller started.
   */
  async stop(opts: { drain?: boolean } = {}): Promise<void> {
    this.stopped = true;
    for (const u of this.unsubscribers.splice(0)) u();
    await this.queue.shutdown({ drain: opts.drain ?? false });
    await this.workers;
    await Promise.all(this.startedInformers.splice(0).map((i) => i.stop()));
  }

  private async reconcileOne(key: string): Promise<ReconcileResult | void> {
    const t0 = performance.now();
    const seconds = () => (performance.now() - t0) / 1000;
    try {
      const r = await this.opts.reconcile(key);
      if (r?.requeue) this.opts.reconcileMetrics?.observe('requeue', seconds());
      else if (r?.requeueAfter !== undefined) this.opts.reconcileMetrics?.observe('requeue_after', seconds());
      else this.opts.reconcileMetrics?.observe('success', seconds());
      return r;
    } catch (err) {
      this.opts.reconcileMetrics?.observe('error', seconds());
      const retries = this.queue.numRequeues(key);
      this.log.warn(
        {
          key,
          retries,
          retryInMs: Math.round(this.queue.whenNext(key)),
          status: httpStatusOf(err),
          err: err instanceof Error ? err.message : String(err),
        },
        'reconcile failed; will retry',
      );
      throw err;
    }
  }
}
