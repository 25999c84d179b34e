// eslint-disable-next-line @nx/enforce-module-boundaries -- integration tests run against the real control plane from the test harness (type:testing)
import { addSharedUser, sharedKubeConfig } from '@strait/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Discovery, serverSideApply } from './apply.ts';
import { CrClient, type WatchEvent } from './cr-client.ts';
import { setCondition, type Condition } from './conditions.ts';
import { ConfigMapResource, CustomResourceDefinitionResource, EventResource, NamespaceResource, type KubeObject, type ResourceDescriptor } from './descriptor.ts';
import { EventRecorder, type EventsV1Event } from './events.ts';
import { handleFinalizer, hasFinalizer, updateStatusIfChanged } from './finalizers.ts';
import { isConflict, isForbidden, isGone, isInvalid, isNotFound, KubeApiError } from './errors.ts';
import { RestClient } from './rest.ts';

const suffix = Math.random().toString(36).slice(2, 8);
const group = `kt${suffix}.test.strait.io`;
const Widget = { group, version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true } as const satisfies ResourceDescriptor;
const ns = `kube-cr-${suffix}`;

interface Widget {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; generation?: number; managedFields?: Array<{ manager?: string }> };
  spec?: { size?: number; color?: string };
  status?: { ready?: boolean; observedGeneration?: number; conditions?: Condition[] };
}

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `widgets.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { size: { type: 'integer', minimum: 0 }, color: { type: 'string' } } },
              status: {
                type: 'object',
                properties: {
                  ready: { type: 'boolean' },
                  observedGeneration: { type: 'integer' },
                  conditions: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
                      properties: {
                        type: { type: 'string' },
                        status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
                        reason: { type: 'string' },
                        message: { type: 'string' },
                        lastTransitionTime: { type: 'string', format: 'date-time' },
                        observedGeneration: { type: 'integer' },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};

let rest: RestClient;
let widgets: CrClient<Widget>;
const crdClient = () => new CrClient<KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } }>(rest, CustomResourceDefinitionResource, { fieldManager: 'strait-kube-test' });

beforeAll(async () => {
  rest = new RestClient(sharedKubeConfig());
  await new CrClient(rest, NamespaceResource).create({ metadata: { name: ns } });
  // The CRD itself goes in by server-side apply of a built-in kind.
  await crdClient().apply(crd as never);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const got = await crdClient().get({ name: crd.metadata.name });
    if (got?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
    if (Date.now() > deadline) throw new Error('CRD not established within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  widgets = new CrClient<Widget>(rest, Widget, { fieldManager: 'strait-kube-test' });
  // The new resource can take a moment to be served after Established.
  for (;;) {
    try {
      await widgets.list({ namespace: ns });
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});

afterAll(async () => {
  await new CrClient(rest, NamespaceResource).delete({ name: ns }).catch(() => undefined);
  await crdClient().delete({ name: crd.metadata.name }).catch(() => undefined);
});

const w = (name: string, size = 1, labels?: Record<string, string>): Widget => ({
  metadata: { name, namespace: ns, ...(labels ? { labels } : {}) },
  spec: { size, color: 'blue' },
});

describe('CrClient against a real API server (inline CRD)', () => {
  it('create, get (undefined on 404), list with a label selector and resourceVersion, delete', async () => {
    const a = await widgets.create(w('a', 1, { app: 'x' }));
    expect(a.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(a.apiVersion).toBe(`${group}/v1`);
    await widgets.create(w('b', 2, { app: 'y' }));
    expect((await widgets.get({ namespace: ns, name: 'a' }))?.spec?.size).toBe(1);
    expect(await widgets.get({ namespace: ns, name: 'nope' })).toBeUndefined();
    const dup = await widgets.create(w('a')).catch((e: unknown) => e);
    expect(isConflict(dup)).toBe(true);
    expect((dup as KubeApiError).reason).toBe('AlreadyExists');
    const l = await widgets.list({ namespace: ns, labelSelector: 'app=x' });
    expect(l.items.map((i) => i.metadata.name)).toEqual(['a']);
    expect(l.items[0]?.kind).toBe('Widget');
    expect(Number(l.resourceVersion)).toBeGreaterThanOrEqual(Number(a.metadata.resourceVersion));
    const paged = await widgets.list({ namespace: ns, pageSize: 1 });
    expect(paged.items.map((i) => i.metadata.name).sort()).toEqual(['a', 'b']);
    expect(await widgets.delete({ namespace: ns, name: 'b' })).toBe(true);
    expect(await widgets.delete({ namespace: ns, name: 'b' })).toBe(false);
    expect(await widgets.get({ namespace: ns, name: 'b' })).toBeUndefined();
  });

  it('merge patch and JSON patch (a failing test op rejects the patch)', async () => {
    await widgets.create(w('p', 1));
    const m = await widgets.mergePatch({ namespace: ns, name: 'p' }, { spec: { size: 5, color: null } } as never);
    expect(m.spec).toEqual({ size: 5 });
    const j = await widgets.jsonPatch({ namespace: ns, name: 'p' }, [
      { op: 'test', path: '/spec/size', value: 5 },
      { op: 'replace', path: '/spec/size', value: 6 },
    ]);
    expect(j.spec?.size).toBe(6);
    const bad = await widgets.jsonPatch({ namespace: ns, name: 'p' }, [{ op: 'test', path: '/spec/size', value: 99 }]).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(KubeApiError);
    expect((bad as KubeApiError).status).toBeGreaterThanOrEqual(400);
    expect((bad as Error).message).toMatch(/^patch Widget kube-cr-\w+\/p: HTTP \d+/);
  });

  it('replace with a stale resourceVersion is a conflict; schema violations are 422', async () => {
    const r = await widgets.create(w('r', 1));
    await widgets.mergePatch({ namespace: ns, name: 'r' }, { spec: { size: 2 } });
    const err = await widgets.replace({ ...r, spec: { size: 3 } }).catch((e: unknown) => e);
    expect(isConflict(err)).toBe(true);
    expect((err as Error).message).toContain(`Widget ${ns}/r`);
    const invalid = await widgets.mergePatch({ namespace: ns, name: 'r' }, { spec: { size: -1 } }).catch((e: unknown) => e);
    expect(isInvalid(invalid)).toBe(true);
  });

  it('server-side apply: creates, records the field manager, conflicts between managers, force takes over', async () => {
    const applied = await widgets.apply({ metadata: { name: 's', namespace: ns }, spec: { size: 1 } });
    expect(applied.spec?.size).toBe(1);
    expect(applied.metadata.managedFields?.map((f) => f.manager)).toContain('strait-kube-test');
    const other = await widgets.apply({ metadata: { name: 's', namespace: ns }, spec: { size: 2 } }, { fieldManager: 'someone-else' }).catch((e: unknown) => e);
    expect(isConflict(other)).toBe(true);
    const forced = await widgets.apply({ metadata: { name: 's', namespace: ns }, spec: { size: 2 } }, { fieldManager: 'someone-else', force: true });
    expect(forced.spec?.size).toBe(2);
    // an object read back from the server (with managedFields) can be applied as-is
    const again = await widgets.apply({ ...forced, spec: { size: 3 } } as never, { fieldManager: 'someone-else' });
    expect(again.spec?.size).toBe(3);
  });

  it('status subresource: updateStatus / patchStatus / applyStatus write status only', async () => {
    const o = await widgets.create(w('st', 1));
    const u = await widgets.updateStatus({ ...o, status: { ready: true, observedGeneration: 1 } });
    expect(u.status).toEqual({ ready: true, observedGeneration: 1 });
    const p = await widgets.patchStatus({ namespace: ns, name: 'st' }, { status: { ready: false }, spec: { size: 9 } });
    expect(p.status?.ready).toBe(false);
    expect(p.spec?.size).toBe(1); // spec changes through /status are ignored
    // The same manager name under Update (above) and Apply is two managers to the server: force to take over.
    const a = await widgets.applyStatus({ metadata: { name: 'st', namespace: ns }, status: { ready: true } }, { force: true });
    expect(a.status?.ready).toBe(true);
    // and the main resource ignores status
    const m = await widgets.mergePatch({ namespace: ns, name: 'st' }, { status: { ready: false } });
    expect(m.status?.ready).toBe(true);
  });

  it('watch streams events from a resourceVersion; a too-old version is Gone', async () => {
    const start = await widgets.list({ namespace: ns });
    const events: Array<WatchEvent<Widget>> = [];
    const ac = new AbortController();
    const done = widgets.watch({ namespace: ns, resourceVersion: start.resourceVersion, allowWatchBookmarks: true, signal: ac.signal }, (e) => {
      events.push(e);
    });
    await widgets.create(w('wa', 1));
    await widgets.mergePatch({ namespace: ns, name: 'wa' }, { spec: { size: 2 } });
    await widgets.delete({ namespace: ns, name: 'wa' });
    const deadline = Date.now() + 10_000;
    while (events.filter((e) => e.object.metadata.name === 'wa').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await done;
    expect(events.filter((e) => e.object.metadata.name === 'wa').map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    const gone = await widgets.watch({ namespace: ns, resourceVersion: '1', timeoutSeconds: 5 }, () => undefined).catch((e: unknown) => e);
    expect(isGone(gone)).toBe(true);
  });

  it('serverSideApply resolves plain manifests by discovery', async () => {
    const discovery = new Discovery(rest);
    expect(await discovery.descriptorFor(`${group}/v1`, 'Widget')).toEqual(Widget);
    expect(await discovery.descriptorFor('v1', 'ConfigMap')).toEqual(ConfigMapResource);
    const cm = await serverSideApply<KubeObject & { data?: Record<string, string> }>(
      rest,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa', namespace: ns }, data: { a: '1' } } as never,
      { fieldManager: 'strait-kube-test', discovery },
    );
    expect(cm.data).toEqual({ a: '1' });
    await expect(discovery.descriptorFor('v1', 'NoSuchKind')).rejects.toThrow(/does not serve kind NoSuchKind/);
  });

  it('errors name the object and status (403 for a user without rights)', async () => {
    const err = await new CrClient<Widget>(rest, { ...Widget, plural: 'nosuchthings', kind: 'NoSuchThing' }).get({ namespace: ns, name: 'x' });
    expect(err).toBeUndefined(); // unknown resource is a 404 too
    const e2 = await widgets.delete({ namespace: ns, name: 'p' }, { preconditions: { uid: '00000000-0000-0000-0000-000000000000' } }).catch((e: unknown) => e);
    expect(isConflict(e2)).toBe(true);
    expect(isNotFound(e2)).toBe(false);
    const user = await addSharedUser(`kube-cr-nobody-${suffix}`);
    const e3 = await new CrClient<Widget>(user.kubeConfig(), Widget).get({ namespace: ns, name: 'a' }).catch((e: unknown) => e);
    expect(isForbidden(e3)).toBe(true);
    expect((e3 as Error).message).toMatch(new RegExp(`^get Widget ${ns}/a: HTTP 403 Forbidden: `));
  });
});

describe('reconciler helpers against a real API server', () => {
  it('finalizers: added with optimistic concurrency, cleanup on deletion, then the object goes', async () => {
    const F = 'test.strait.io/cleanup';
    let obj = await widgets.create(w('fin', 1));
    const r = await handleFinalizer(widgets, obj, F, async () => undefined);
    if (r.deleting) throw new Error('not deleting yet');
    obj = r.obj;
    expect(hasFinalizer(obj, F)).toBe(true);
    // a stale copy cannot clobber the finalizer list
    const stale = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(Number(obj.metadata.resourceVersion) - 1), finalizers: [] } };
    await expect(handleFinalizer(widgets, stale as Widget, 'test.strait.io/other', async () => undefined)).rejects.toMatchObject({ status: 409 });
    await widgets.delete({ namespace: ns, name: 'fin' });
    const dying = (await widgets.get({ namespace: ns, name: 'fin' })) as Widget;
    expect((dying.metadata as { deletionTimestamp?: string }).deletionTimestamp).toBeTruthy();
    const cleaned: string[] = [];
    const r2 = await handleFinalizer(widgets, dying, F, async (o) => void cleaned.push(o.metadata.name));
    expect(r2.deleting).toBe(true);
    expect(cleaned).toEqual(['fin']);
    expect(await widgets.get({ namespace: ns, name: 'fin' })).toBeUndefined();
  });

  it('status: conditions and observedGeneration written once, unchanged status not rewritten', async () => {
    let obj = await widgets.create(w('cond', 1));
    const status = {
      observedGeneration: obj.metadata.generation ?? 0,
      conditions: setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Reconciled', message: 'all good', observedGeneration: obj.metadata.generation ?? 0 }),
    };
    obj = await updateStatusIfChanged(widgets, obj, status);
    expect(obj.status?.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True', observedGeneration: 1 });
    const rv = obj.metadata.resourceVersion;
    obj = await updateStatusIfChanged(widgets, obj, structuredClone(status));
    expect(obj.metadata.resourceVersion).toBe(rv);
  });

  it('events.k8s.io/v1 Events are accepted and repeats are aggregated into a series', async () => {
    const obj = await widgets.create(w('ev', 1));
    const events = new CrClient<EventsV1Event>(rest, EventResource);
    const rec = new EventRecorder({ client: events, reportingController: 'net.strait.io/kube-test', reportingInstance: `test-${suffix}` });
    await rec.warning(obj, 'HandshakeFailed', 'no handshake for 5 s');
    await rec.warning(obj, 'HandshakeFailed', 'no handshake for 5 s');
    await rec.warning(obj, 'HandshakeFailed', 'no handshake for 5 s');
    await rec.normal(obj, 'Connected', 'tunnel up');
    const list = await events.list({ namespace: ns, fieldSelector: `regarding.name=ev` });
    const hs = list.items.filter((e) => e.reason === 'HandshakeFailed');
    expect(hs).toHaveLength(1);
    expect(hs[0]).toMatchObject({ type: 'Warning', note: 'no handshake for 5 s', series: { count: 3 }, regarding: { kind: 'Widget', name: 'ev', namespace: ns } });
    expect(list.items.filter((e) => e.reason === 'Connected')).toHaveLength(1);
  });
});
