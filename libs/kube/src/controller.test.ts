import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setCondition, type Condition } from './conditions.ts';
import { Controller, generationChanged } from './controller.ts';
import { parseObjectKey, type ResourceDescriptor } from './descriptor.ts';
import { EventRecorder, type EventsV1Event } from './events.ts';
import { FakeKubeApi } from './fake-api.ts';
import { handleFinalizer, hasFinalizer, updateStatusIfChanged } from './finalizers.ts';
import { Informer } from './informer.ts';
import { EventResource } from './descriptor.ts';
import type { ReconcileMetricsSink } from './metrics.ts';

const WidgetResource = { group: 'test.strait.io', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true } as const satisfies ResourceDescriptor;
interface Widget {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; generation?: number; finalizers?: string[]; deletionTimestamp?: string };
  spec: { size: number };
  status?: { observedGeneration?: number; conditions?: Condition[] };
}
const widget = (name: string, size = 1): Widget => ({ metadata: { name, namespace: 'ns' }, spec: { size } });
const logger = pino({ level: 'silent' });

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(reconcile: (key: string) => Promise<{ requeueAfter?: number; requeue?: boolean } | void>, concurrency = 4) {
  const api = new FakeKubeApi();
  const admin = api.client<Widget>(WidgetResource, { admin: true });
  const client = api.client<Widget>(WidgetResource);
  const informer = new Informer<Widget>({ client, backoff: { initialMs: 5, maxMs: 20 } });
  const results: string[] = [];
  const metrics: ReconcileMetricsSink = { observe: (r) => results.push(r) };
  const ctrl = new Controller({ name: 'widgets', logger, reconcile, concurrency, queue: { baseDelayMs: 2, maxDelayMs: 20 }, reconcileMetrics: metrics });
  ctrl.watch(informer);
  cleanups.push(() => api.stop(), () => ctrl.stop());
  return { api, admin, client, informer, ctrl, results };
}

describe('Controller', () => {
  it('reconciles each key after the caches synced', async () => {
    const seen: string[] = [];
    let syncedAtFirstCall: boolean | undefined;
    const { admin, informer, ctrl } = setup(async (key) => {
      syncedAtFirstCall ??= informer.hasSynced();
      seen.push(key);
    });
    await admin.create(widget('a'));
    await admin.create(widget('b'));
    await ctrl.start();
    await vi.waitFor(() => expect(seen.sort()).toEqual(['ns/a', 'ns/b']));
    expect(syncedAtFirstCall).toBe(true);
    await admin.delete({ namespace: 'ns', name: 'a' });
    await vi.waitFor(() => expect(seen.filter((k) => k === 'ns/a')).toHaveLength(2));
  });

  it('never reconciles one key concurrently under a storm of updates, and sees the final state', async () => {
    const active = new Map<string, number>();
    let overlap = 0;
    let lastSize = -1;
    const { admin, informer, ctrl } = setup(async (key) => {
      const n = (active.get(key) ?? 0) + 1;
      active.set(key, n);
      if (n > 1) overlap++;
      await new Promise((r) => setTimeout(r, 5));
      lastSize = informer.getByRef(parseObjectKey(key))?.spec.size ?? -1;
      active.set(key, (active.get(key) ?? 1) - 1);
    });
    await admin.create(widget('a', 0));
    await ctrl.start();
    for (let i = 1; i <= 50; i++) {
      await admin.patch({ namespace: 'ns', name: 'a' }, { spec: { size: i } });
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    await vi.waitFor(() => expect(lastSize).toBe(50));
    expect(overlap).toBe(0);
  });

  it('retries errors with backoff and honours requeueAfter; reports results', async () => {
    let calls = 0;
    const { admin, ctrl, results } = setup(async () => {
      calls++;
      if (calls <= 2) throw new Error('transient');
      if (calls === 3) return { requeue: true };
      if (calls === 4) return { requeueAfter: 10 };
      return undefined;
    });
    await admin.create(widget('a'));
    await ctrl.start();
    await vi.waitFor(() => expect(calls).toBe(5));
    expect(results).toEqual(['error', 'error', 'requeue', 'requeue_after', 'success']);
  });

  it('generationChanged filters status-only updates', () => {
    const a: { metadata: { generation: number; resourceVersion: string; deletionTimestamp?: string } } = { metadata: { generation: 1, resourceVersion: '1' } };
    expect(generationChanged(a, { metadata: { generation: 1, resourceVersion: '2' } })).toBe(false);
    expect(generationChanged(a, { metadata: { generation: 2, resourceVersion: '2' } })).toBe(true);
    expect(generationChanged(a, { metadata: { generation: 1, resourceVersion: '2', deletionTimestamp: 'now' } })).toBe(true);
  });
});

describe('finalizers and status', () => {
  it('adds the finalizer, runs cleanup on deletion, then lets the object go', async () => {
    const api = new FakeKubeApi();
    const client = api.client<Widget>(WidgetResource);
    const F = 'test.strait.io/cleanup';
    let obj = await client.create(widget('a'));
    const r1 = await handleFinalizer(client, obj, F, async () => undefined);
    expect(r1.deleting).toBe(false);
    if (!r1.deleting) obj = r1.obj;
    expect(hasFinalizer(obj, F)).toBe(true);
    expect(await client.delete({ namespace: 'ns', name: 'a' })).toBe(true);
    const dying = await client.get({ namespace: 'ns', name: 'a' });
    expect(dying?.metadata.deletionTimestamp).toBeTruthy();
    const cleaned: string[] = [];
    const r2 = await handleFinalizer(client, dying as Widget, F, async (o) => void cleaned.push(o.metadata.name));
    expect(r2.deleting).toBe(true);
    expect(cleaned).toEqual(['a']);
    expect(await client.get({ namespace: 'ns', name: 'a' })).toBeUndefined();
  });

  it('keeps the finalizer when cleanup fails, and rejects bad finalizer names', async () => {
    const api = new FakeKubeApi();
    const client = api.client<Widget>(WidgetResource);
    const F = 'test.strait.io/cleanup';
    const obj = await client.create({ ...widget('a'), metadata: { ...widget('a').metadata, finalizers: [F] } });
    await client.delete({ namespace: 'ns', name: 'a' });
    const dying = (await client.get({ namespace: 'ns', name: 'a' })) as Widget;
    await expect(handleFinalizer(client, dying, F, async () => { throw new Error('cannot clean'); })).rejects.toThrow('cannot clean');
    expect(hasFinalizer((await client.get({ namespace: 'ns', name: 'a' })) as Widget, F)).toBe(true);
    await expect(handleFinalizer(client, obj, 'no-slash', async () => undefined)).rejects.toThrow(/domain-qualified/);
  });

  it('finalizer writes are conditional on resourceVersion (409 on a stale object)', async () => {
    const api = new FakeKubeApi();
    const client = api.client<Widget>(WidgetResource);
    const stale = await client.create(widget('a'));
    await client.patch({ namespace: 'ns', name: 'a' }, { spec: { size: 2 } });
    await expect(handleFinalizer(client, stale, 'test.strait.io/x', async () => undefined)).rejects.toMatchObject({ status: 409 });
  });

  it('updateStatusIfChanged writes only real changes, through the status subresource', async () => {
    const api = new FakeKubeApi();
    const client = api.client<Widget>(WidgetResource);
    let obj = await client.create(widget('a'));
    const t = new Date('2025-01-01T00:00:00Z');
    const status = { observedGeneration: 1, conditions: setCondition([], { type: 'Ready', status: 'True', reason: 'Ok', message: '' }, t) };
    obj = await updateStatusIfChanged(client, obj, status);
    const rv = obj.metadata.resourceVersion;
    expect(obj.status).toEqual(status);
    obj = await updateStatusIfChanged(client, obj, structuredClone(status));
    expect(obj.metadata.resourceVersion).toBe(rv);
    expect(api.calls['updateStatus']).toBe(1);
  });
});

describe('EventRecorder', () => {
  it('creates events.k8s.io/v1 Events and aggregates repeats into a series', async () => {
    const api = new FakeKubeApi();
    const events = api.client<EventsV1Event>(EventResource);
    const rec = new EventRecorder({ client: events, reportingController: 'net.strait.io/test', reportingInstance: 'pod-0', logger });
    const obj = { apiVersion: 'test.strait.io/v1', kind: 'Widget', metadata: { name: 'a', namespace: 'ns', uid: 'u1' } };
    await rec.warning(obj, 'HandshakeFailed', 'no handshake for 5s');
    await rec.warning(obj, 'HandshakeFailed', 'no handshake for 5s');
    await Promise.all([rec.warning(obj, 'HandshakeFailed', 'no handshake for 5s'), rec.normal(obj, 'Connected', 'tunnel up')]);
    const all = api.snapshot<EventsV1Event>(EventResource);
    expect(all).toHaveLength(2);
    const hs = all.find((e) => e.reason === 'HandshakeFailed');
    expect(hs).toMatchObject({
      type: 'Warning',
      note: 'no handshake for 5s',
      reportingController: 'net.strait.io/test',
      regarding: { kind: 'Widget', name: 'a', namespace: 'ns', uid: 'u1' },
      series: { count: 3 },
    });
    expect(hs?.metadata.namespace).toBe('ns');
    expect(all.find((e) => e.reason === 'Connected')?.series).toBeUndefined();
  });

  it('never throws: API failures are logged and dropped', async () => {
    const api = new FakeKubeApi();
    api.setDown(true);
    const rec = new EventRecorder({ client: api.client<EventsV1Event>(EventResource), reportingController: 'c', reportingInstance: 'i' });
    await expect(rec.normal({ metadata: { name: 'x' } }, 'Reason', 'note')).resolves.toBeUndefined();
  });
});
