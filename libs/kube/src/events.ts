/**
 * Kubernetes Events recorder (events.k8s.io/v1). Repeats of the same event (same object, type, reason,
 * action and note) within `aggregateWindowMs` update the existing Event's series (count, lastObservedTime)
 * instead of creating new objects. Recording never throws: failures are logged and dropped.
 * Never put secrets in a note: Events are readable by anyone who can read the namespace.
 */
import type { Logger } from 'pino';
import type { ResourceClient } from './cr-client.ts';
import { apiVersionOf, type KubeObject, type ResourceDescriptor } from './descriptor.ts';
import { isNotFound } from './errors.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventsV1Event extends KubeObject {
  apiVersion?: 'events.k8s.io/v1';
  kind?: 'Event';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  eventTime: string;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  note?: string;
  type: EventType;
  regarding: { apiVersion?: string; kind?: string; name?: string; namespace?: string; uid?: string; resourceVersion?: string };
  series?: { count: number; lastObservedTime: string };
}

export interface EventRecorderOptions {
  /** A client for events.k8s.io/v1 Events (CrClient with EventResource, or the fake's). */
  client: ResourceClient<EventsV1Event>;
  /** e.g. 'net.strait.io/tunnel-operator'. */
  reportingController: string;
  /** e.g. the pod name. */
  reportingInstance: string;
  logger?: Logger | undefined;
  /** Repeats within this window are aggregated. Default 10 min. */
  aggregateWindowMs?: number;
  /** Aggregation cache size (oldest entries evicted). Default 4096. */
  maxCacheEntries?: number;
}

interface SeriesEntry {
  name: string;
  namespace: string;
  count: number;
  firstMs: number;
}

const MAX_NOTE_BYTES = 1024;

function microTime(d = new Date()): string {
  return d.toISOString().replace(/Z$/, '000Z');
}

function truncate(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  let out = s.slice(0, maxBytes);
  while (Buffer.byteLength(out) > maxBytes - 3) out = out.slice(0, -1);
  return `${out}...`;
}

export class EventRecorder {
  private readonly opts: EventRecorderOptions;
  private readonly window: number;
  private readonly maxEntries: number;
  private readonly series = new Map<string, SeriesEntry>();
  private readonly chains = new Map<string, Promise<void>>();
  private seq = 0;

  constructor(opts: EventRecorderOptions) {
    if (!opts.reportingController) throw new TypeError('EventRecorder: reportingController is required');
    if (!opts.reportingInstance) throw new TypeError('EventRecorder: reportingInstance is required');
    this.opts = opts;
    this.window = opts.aggregateWindowMs ?? 10 * 60_000;
    this.maxEntries = opts.maxCacheEntries ?? 4096;
  }

  /**
   * Records an event about `obj` (its descriptor is needed when obj lacks apiVersion/kind). Returns a promise
   * that resolves once written (or dropped after logging); awaiting it is optional.
   */
  event(
    obj: KubeObject,
    type: EventType,
    reason: string,
    note: string,
    opts: { action?: string; descriptor?: ResourceDescriptor } = {},
  ): Promise<void> {
    if (type !== 'Normal' && type !== 'Warning') {
      this.opts.logger?.error({ type }, 'event type must be Normal or Warning; event dropped');
      return Promise.resolve();
    }
    if (!reason || reason.length > 128) {
      this.opts.logger?.error({ reason }, 'event reason must be 1-128 characters; event dropped');
      return Promise.resolve();
    }
    const name = obj.metadata?.name;
    if (!name) {
      this.opts.logger?.error({ reason }, 'event about an object without a name; dropped');
      return Promise.resolve();
    }
    const action = (opts.action ?? reason).slice(0, 128);
    const regarding = {
      apiVersion: obj.apiVersion ?? (opts.descriptor ? apiVersionOf(opts.descriptor) : undefined),
      kind: obj.kind ?? opts.descriptor?.kind,
      name,
      namespace: obj.metadata?.namespace,
      uid: obj.metadata?.uid,
    };
    const body = truncate(note, MAX_NOTE_BYTES);
    const key = JSON.stringify([regarding.kind, regarding.namespace, name, regarding.uid, type, reason, action, body]);
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(() => this.write(key, regarding, type, reason, action, body));
    this.chains.set(key, next);
    void next.finally(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }

  normal(obj: KubeObject, reason: string, note: string, opts?: { action?: string; descriptor?: ResourceDescriptor }): Promise<void> {
    return this.event(obj, 'Normal', reason, note, opts);
  }

  warning(obj: KubeObject, reason: string, note: string, opts?: { action?: string; descriptor?: ResourceDescriptor }): Promise<void> {
    return this.event(obj, 'Warning', reason, note, opts);
  }

  private async write(
    key: string,
    regarding: EventsV1Event['regarding'],
    type: EventType,
    reason: string,
    action: string,
    note: string,
  ): Promise<void> {
    const now = Date.now();
    const entry = this.series.get(key);
    try {
      if (entry && now - entry.firstMs < this.window) {
        entry.count++;
        try {
          await this.opts.client.patch(
            { name: entry.name, namespace: entry.namespace },
            { series: { count: entry.count, lastObservedTime: microTime(new Date(now)) } },
            { type: 'merge' },
          );
          return;
        } catch (err) {
          if (!isNotFound(err)) throw err;
          this.series.delete(key); // expired or deleted: start a new Event
        }
      }
      const namespace = regarding.namespace || 'default';
      const name = `${regarding.name}.${(BigInt(now) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16)}`;
      const ev: EventsV1Event = {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name, namespace },
        eventTime: microTime(new Date(now)),
        reportingController: this.opts.reportingController,
        reportingInstance: this.opts.reportingInstance,
        action,
        reason,
        note,
        type,
        regarding: Object.fromEntries(Object.entries(regarding).filter(([, v]) => v !== undefined)),
      };
      await this.opts.client.create(ev);
      this.series.delete(key);
      this.series.set(key, { name, namespace, count: 1, firstMs: now });
      while (this.series.size > this.maxEntries) {
        const oldest = this.series.keys().next().value;
        if (oldest === undefined) break;
        this.series.delete(oldest);
      }
    } catch (err) {
      this.opts.logger?.warn(
        { reason, object: `${regarding.namespace ?? ''}/${regarding.name ?? ''}`, err: err instanceof Error ? err.message : String(err) },
        'failed to record event',
      );
    }
  }
}
