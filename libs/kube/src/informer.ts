/**
 * List+watch informer for any kind (custom resources, Pods, Leases, ...) with a local cache.
 *
 * Behaviour:
 *  - list (paged, quorum read), then watch from the list's resourceVersion with allowWatchBookmarks and a
 *    jittered timeoutSeconds, so a healthy watch always ends and is renewed from the last seen version;
 *  - 410 Gone (too old resourceVersion, e.g. after an API server restart) → relist; the relist is diffed
 *    against the cache: new objects → add, changed resourceVersion → update, unchanged → nothing (no
 *    duplicate delivery), vanished → delete (`finalStateUnknown: true`, carrying the last known state);
 *  - any other error → restart with jittered exponential backoff (resuming from the last resourceVersion);
 *  - a watchdog aborts and restarts a watch that has been silent longer than `maxSilenceMs`;
 *  - an event whose resourceVersion equals the cached one is dropped (no duplicate delivery).
 * Handlers are called synchronously, in event order; exceptions in handlers are logged and swallowed.
 */
import type { Logger } from 'pino';
import { Backoff, sleep, type BackoffOptions } from './backoff.ts';
import type { ResourceClient, WatchEvent } from './cr-client.ts';
import { objectKey, type KubeObject, type ObjectRef } from './descriptor.ts';
import { isGone } from './errors.ts';

export interface DeleteInfo {
  /** true when the delete was inferred from a relist (the object vanished while the watch was down). */
  finalStateUnknown: boolean;
}

export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T, info: DeleteInfo): void;
}

export interface InformerOptions<T extends KubeObject> {
  client: Pick<ResourceClient<T>, 'descriptor' | 'list' | 'watch'>;
  /** Only this namespace (namespaced kinds); default all namespaces. */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  /** Server-side watch timeout; each watch uses a random value in [T, 1.5T]. Default 300. */
  watchTimeoutSeconds?: number | undefined;
  /**
   * Watchdog: a watch that delivered nothing (no event, no bookmark) for this long is aborted and restarted.
   * Default min(T, 60 s) + 30 s: the API server sends a bookmark at least every minute and shortly before T.
   */
  maxSilenceMs?: number | undefined;
  /** Restart backoff. Default 250 ms doubling to 10 s, 50 % jitter. */
  backoff?: BackoffOptions | undefined;
  /** If set, every cached object is re-delivered as onUpdate(obj, obj) at this period. */
  resyncPeriodMs?: number | undefined;
  logger?: Logger | undefined;
  /** For logs. Default the kind. */
  name?: string | undefined;
}

export interface InformerStats {
  lists: number;
  watches: number;
  /** Watch restarts after an error (not counting normal server-side ends). */
  errorRestarts: number;
  /** Restarts caused by the watchdog. */
  watchdogRestarts: number;
  /** Relists caused by 410 Gone. */
  goneRelists: number;
}

const noop = () => undefined;

export class Informer<T extends KubeObject> {
  readonly name: string;
  readonly stats: InformerStats = { lists: 0, watches: 0, errorRestarts: 0, watchdogRestarts: 0, goneRelists: 0 };
  private readonly opts: InformerOptions<T>;
  private readonly store = new Map<string, T>();
  private readonly handlers = new Set<InformerHandlers<T>>();
  private readonly backoff: Backoff;
  private readonly watchTimeoutSeconds: number;
  private readonly stopper = new AbortController();
  private resourceVersion = '';
  private synced = false;
  private started = false;
  private loop: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private syncWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];

  constructor(opts: InformerOptions<T>) {
    this.opts = opts;
    this.name = opts.name ?? opts.client.descriptor.kind;
    this.backoff = new Backoff({ initialMs: 250, maxMs: 10_000, jitter: 0.5, ...opts.backoff });
    this.watchTimeoutSeconds = opts.watchTimeoutSeconds ?? 300;
    if (!(this.watchTimeoutSeconds >= 1)) throw new RangeError(`informer ${this.name}: watchTimeoutSeconds must be >= 1`);
    if (opts.maxSilenceMs !== undefined && !(opts.maxSilenceMs > 0)) throw new RangeError(`informer ${this.name}: maxSilenceMs must be > 0`);
    if (opts.resyncPeriodMs !== undefined && !(opts.resyncPeriodMs > 0)) throw new RangeError(`informer ${this.name}: resyncPeriodMs must be > 0`);
  }

  /** Starts list+watch in the background (idempotent). */
  start(): void {
    if (this.started) return;
    if (this.stopper.signal.aborted) throw new Error(`informer ${this.name}: cannot start after stop()`);
    this.started = true;
    this.loop = this.run();
    if (this.opts.resyncPeriodMs) {
      this.resyncTimer = setInterval(() => this.resync(), this.opts.resyncPeriodMs);
    }
  }

  /** Stops watching; the cache keeps its last content. Resolves when the loop has exited. */
  async stop(): Promise<void> {
    this.stopper.abort();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    for (const w of this.syncWaiters.splice(0)) w.reject(new Error(`informer ${this.name} stopped before it synced`));
    await this.loop;
  }

  get isStarted(): boolean {
    return this.started && !this.stopper.signal.aborted;
  }

  /** True once the first list has been applied to the cache. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves when the first list has been applied; rejects on stop() or timeout. */
  waitForSync(opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject };
      this.syncWaiters.push(entry);
      const drop = (e: Error) => {
        this.syncWaiters = this.syncWaiters.filter((w) => w !== entry);
        reject(e);
      };
      if (opts.timeoutMs !== undefined) {
        const t = setTimeout(() => drop(new Error(`informer ${this.name}: not synced within ${opts.timeoutMs} ms`)), opts.timeoutMs);
        const orig = entry.resolve;
        entry.resolve = () => {
          clearTimeout(t);
          orig();
        };
      }
      opts.signal?.addEventListener('abort', () => drop(new Error(`informer ${this.name}: wait for sync aborted`)), { once: true });
    });
  }

  /**
   * Registers handlers. Objects already in the cache are delivered to the new handlers as adds, so a
   * late subscriber sees the same state as an early one. Returns an unsubscribe function.
   */
  addEventHandler(h: InformerHandlers<T>): () => void {
    this.handlers.add(h);
    for (const obj of this.store.values()) this.call(h.onAdd?.bind(h) ?? noop, obj);
    return () => this.handlers.delete(h);
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  getByRef(ref: ObjectRef): T | undefined {
    return this.store.get(ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  keys(): string[] {
    return [...this.store.keys()];
  }

  /** The last resourceVersion seen (list, event or bookmark). */
  get lastResourceVersion(): string {
    return this.resourceVersion;
  }

  private async run(): Promise<void> {
    const signal = this.stopper.signal;
    let needList = true;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.listAndReplace();
          needList = false;
        }
        const r = await this.watchOnce();
        if (signal.aborted) break;
        if (r.watchdog) {
          this.stats.watchdogRestarts++;
          this.opts.logger?.warn({ informer: this.name, silentMs: r.silentMs }, 'watch silent too long; restarting it');
          failures++;
        } else if (r.events > 0 || r.durationMs > 1000) {
          failures = 0;
          this.backoff.reset();
          continue;
        } else {
          failures++;
        }
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        if (isGone(err)) {
          this.stats.goneRelists++;
          needList = true;
          this.opts.logger?.info({ informer: this.name, resourceVersion: this.resourceVersion }, 'resourceVersion too old (410); relisting');
          // The first 410 is normal (compaction, API server restart): relist at once. Repeated ones back off.
          if (failures === 1) continue;
        } else {
          this.stats.errorRestarts++;
          this.opts.logger?.warn({ informer: this.name, err: errText(err) }, 'list/watch failed; retrying with backoff');
        }
      }
      if (failures > 0) await sleep(this.backoff.next(), signal);
    }
  }

  private async listAndReplace(): Promise<void> {
    this.stats.lists++;
    const { items, resourceVersion } = await this.opts.client.list({
      namespace: this.opts.namespace,
      labelSelector: this.opts.labelSelector,
      fieldSelector: this.opts.fieldSelector,
      signal: this.stopper.signal,
    });
    if (this.stopper.signal.aborted) return;
    const seen = new Set<string>();
    for (const obj of items) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.store.get(key);
      if (!old) {
        this.store.set(key, obj);
        this.emit('add', obj);
      } else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
        this.store.set(key, obj);
        this.emit('update', obj, old);
      }
    }
    for (const [key, old] of [...this.store]) {
      if (!seen.has(key)) {
        this.store.delete(key);
        this.emit('delete', old, undefined, true);
      }
    }
    this.resourceVersion = resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w.resolve();
    }
  }

  private async watchOnce(): Promise<{ events: number; durationMs: number; watchdog: boolean; silentMs: number }> {
    this.stats.watches++;
    const ac = new AbortController();
    const onStop = () => ac.abort();
    this.stopper.signal.addEventListener('abort', onStop, { once: true });
    if (this.stopper.signal.aborted) ac.abort(); // stopped before the listener existed
    const timeoutSeconds = Math.floor(this.watchTimeoutSeconds * (1 + Math.random() * 0.5));
    const maxSilenceMs = this.opts.maxSilenceMs ?? Math.min(timeoutSeconds * 1000, 60_000) + 30_000;
    const started = performance.now();
    let last = started;
    let events = 0;
    let watchdog = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      timer = setTimeout(
        () => {
          if (performance.now() - last >= maxSilenceMs) {
            watchdog = true;
            ac.abort();
          } else arm();
        },
        Math.max(1, last + maxSilenceMs - performance.now()),
      );
    };
    arm();
    try {
      await this.opts.client.watch(
        {
          namespace: this.opts.namespace,
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds,
          signal: ac.signal,
        },
        (ev) => {
          if (ac.signal.aborted) return;
          last = performance.now();
          events++;
          this.apply(ev);
        },
      );
    } finally {
      clearTimeout(timer);
      this.stopper.signal.removeEventListener('abort', onStop);
      ac.abort();
    }
    const now = performance.now();
    return { events, durationMs: now - started, watchdog, silentMs: now - last };
  }

  private apply(ev: WatchEvent<T>): void {
    const rv = ev.object?.metadata?.resourceVersion;
    if (ev.type === 'BOOKMARK') {
      if (rv) this.resourceVersion = rv;
      return;
    }
    const obj = ev.object;
    const key = objectKey(obj);
    const old = this.store.get(key);
    if (rv) this.resourceVersion = rv;
    if (ev.type === 'DELETED') {
      if (!old) return; // never delivered, nothing to retract
      this.store.delete(key);
      this.emit('delete', obj, undefined, false);
      return;
    }
    if (old && old.metadata?.resourceVersion === rv) return; // duplicate of what the cache holds
    this.store.set(key, obj);
    if (old) this.emit('update', obj, old);
    else this.emit('add', obj);
  }

  private resync(): void {
    if (!this.synced || this.stopper.signal.aborted) return;
    for (const obj of this.store.values()) this.emit('update', obj, obj);
  }

  private emit(kind: 'add' | 'update' | 'delete', obj: T, old?: T, finalStateUnknown = false): void {
    for (const h of this.handlers) {
      if (kind === 'add' && h.onAdd) this.call(h.onAdd.bind(h), obj);
      else if (kind === 'update' && h.onUpdate) this.call(() => h.onUpdate?.(old as T, obj), obj);
      else if (kind === 'delete' && h.onDelete) this.call(() => h.onDelete?.(obj, { finalStateUnknown }), obj);
    }
  }

  private call(fn: (obj: T) => void, obj: T): void {
    try {
      fn(obj);
    } catch (err) {
      this.opts.logger?.error({ informer: this.name, key: objectKey(obj), err: errText(err) }, 'informer event handler threw');
    }
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
