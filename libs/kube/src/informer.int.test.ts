// eslint-disable-next-line @nx/enforce-module-boundaries -- integration tests run against the real control plane from the test harness (type:testing)
import { startControlPlane, type ClusterHandle, type ControlPlane } from '@strait/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from './controller.ts';
import { CrClient } from './cr-client.ts';
import { ConfigMapResource, NamespaceResource, objectKey, parseObjectKey } from './descriptor.ts';
import { Informer } from './informer.ts';
import { RestClient } from './rest.ts';

interface CM {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  data?: Record<string, string>;
}

interface Delivery {
  type: 'add' | 'update' | 'delete';
  key: string;
  rv: string;
  v: string | undefined;
  relist?: boolean;
}

const ns = 'informer-int';
const logger = pino({ level: process.env['STRAIT_TEST_LOG'] ?? 'warn' }, process.stderr);

let cp: ControlPlane;
let cluster: ClusterHandle;
let admin: CrClient<CM>;

beforeAll(async () => {
  // Its own control plane: this test kills kube-apiserver.
  cp = await startControlPlane({ clusters: [{ name: 'informer-kill' }], nats: false });
  cluster = cp.clusters[0] as ClusterHandle;
  const rest = new RestClient(cluster.kubeConfig(), { timeoutMs: 5_000 });
  await new CrClient(rest, NamespaceResource).create({ metadata: { name: ns } });
  admin = new CrClient<CM>(rest, ConfigMapResource, { fieldManager: 'informer-int-test' });
});

afterAll(async () => {
  await cp?.stop();
});

/** Through etcd's JSON gateway: one unrelated write (so every version the informer holds is older), then a compaction. */
async function etcdBumpAndCompact(etcdUrl: string): Promise<void> {
  const b64 = (x: string) => Buffer.from(x).toString('base64');
  const put = await fetch(`${etcdUrl}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: b64('/strait-test/bump'), value: b64('x') }) });
  if (!put.ok) throw new Error(`etcd put: HTTP ${put.status}`);
  const revision = ((await put.json()) as { header: { revision: string } }).header.revision;
  const c = await fetch(`${etcdUrl}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision, physical: true }) });
  if (!c.ok) throw new Error(`etcd compaction: HTTP ${c.status} ${await c.text()}`);
}

const cm = (name: string, v: string): CM => ({ metadata: { name, namespace: ns }, data: { v } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await cond()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(20);
  }
}

describe('informer against a real kube-apiserver that is SIGKILLed and restarted', () => {
  it('sees create/update/delete, survives the kill, converges to the server state without duplicates; one key never reconciles concurrently', async () => {
    const deliveries: Delivery[] = [];
    const informer = new Informer<CM>({
      client: new CrClient<CM>(new RestClient(cluster.kubeConfig(), { timeoutMs: 5_000 }), ConfigMapResource),
      namespace: ns,
      watchTimeoutSeconds: 30,
      maxSilenceMs: 20_000,
      backoff: { initialMs: 100, maxMs: 1_000 },
      logger,
      name: 'configmaps',
    });
    informer.addEventHandler({
      onAdd: (o) => deliveries.push({ type: 'add', key: objectKey(o), rv: o.metadata.resourceVersion ?? '', v: o.data?.['v'] }),
      onUpdate: (_old, o) => deliveries.push({ type: 'update', key: objectKey(o), rv: o.metadata.resourceVersion ?? '', v: o.data?.['v'] }),
      onDelete: (o, info) =>
        deliveries.push({ type: 'delete', key: objectKey(o), rv: o.metadata.resourceVersion ?? '', v: o.data?.['v'], relist: info.finalStateUnknown }),
    });

    // A controller on the same informer with a slow reconcile, instrumented for per-key concurrency.
    const active = new Map<string, number>();
    let overlaps = 0;
    let reconciles = 0;
    const lastSeen = new Map<string, string | undefined>();
    const controller = new Controller({
      name: 'configmaps',
      logger,
      concurrency: 8,
      reconcile: async (key) => {
        const n = (active.get(key) ?? 0) + 1;
        active.set(key, n);
        if (n > 1) overlaps++;
        reconciles++;
        try {
          await sleep(15);
          lastSeen.set(key, informer.getByRef(parseObjectKey(key))?.metadata.resourceVersion);
        } finally {
          active.set(key, (active.get(key) ?? 1) - 1);
        }
      },
    });
    controller.watch(informer);
    await controller.start({ syncTimeoutMs: 30_000 });

    const serverState = async () => new Map((await admin.list({ namespace: ns })).items.map((o) => [objectKey(o), o.metadata.resourceVersion]));
    const cacheState = () => new Map(informer.list().map((o) => [objectKey(o), o.metadata.resourceVersion]));
    const converged = async () => {
      const s = await serverState();
      const c = cacheState();
      return s.size === c.size && [...s].every(([k, rv]) => c.get(k) === rv);
    };

    // Phase 1: normal operation — create, update, delete are all seen.
    for (let i = 0; i < 10; i++) await admin.create(cm(`cm-${i}`, '0'));
    for (let i = 0; i < 5; i++) await admin.mergePatch({ namespace: ns, name: `cm-${i}` }, { data: { v: '1' } });
    await admin.delete({ namespace: ns, name: 'cm-9' });
    await eventually(converged, 10_000, 'cache converged (phase 1)');
    expect(deliveries.filter((d) => d.key === `${ns}/cm-9`).map((d) => d.type)).toEqual(['add', 'delete']);
    expect(deliveries.filter((d) => d.key === `${ns}/cm-0`).map((d) => `${d.type}:${d.v}`)).toEqual(['add:0', 'update:1']);

    // A storm of updates on a few keys while reconciles are slow: never two reconciles of one key at once.
    await Promise.all(
      Array.from({ length: 4 }, async (_, k) => {
        for (let i = 0; i < 40; i++) await admin.mergePatch({ namespace: ns, name: `cm-${5 + k}` }, { data: { v: `storm-${i}` } });
      }),
    );
    await eventually(converged, 10_000, 'cache converged (storm)');

    // Phase 2: changes right before the kill (the informer may or may not see them before it dies) ...
    await admin.mergePatch({ namespace: ns, name: 'cm-1' }, { data: { v: '2' } });
    await admin.delete({ namespace: ns, name: 'cm-2' });
    await admin.create(cm('cm-new1', '0'));
    await cluster.stopApiServer('SIGKILL');
    const killedAt = performance.now();
    await sleep(1_500); // down: the informer's watch broke; its lists are refused
    const restartsWhileDown = informer.stats.errorRestarts;
    await cluster.startApiServer();
    const upAfter = performance.now() - killedAt;
    // ... and right after the restart, including deletes.
    await admin.mergePatch({ namespace: ns, name: 'cm-3' }, { data: { v: '3' } });
    await admin.delete({ namespace: ns, name: 'cm-4' });
    await admin.delete({ namespace: ns, name: 'cm-new1' });
    await admin.create(cm('cm-new2', '0'));
    const restartedAt = performance.now();
    const convergeMs = await eventually(converged, 30_000, 'cache converged after the restart');
    console.log(
      `[informer] kube-apiserver SIGKILLed, ready again after ${upAfter.toFixed(0)} ms; cache converged ${(performance.now() - restartedAt).toFixed(0)} ms after the post-restart writes ` +
        `(${convergeMs.toFixed(0)} ms polling); stats ${JSON.stringify(informer.stats)}`,
    );
    expect(restartsWhileDown).toBeGreaterThanOrEqual(1);

    // Final state: the cache equals the server's list.
    const server = await serverState();
    expect(new Map([...cacheState()].sort())).toEqual(new Map([...server].sort()));
    expect([...server.keys()].sort()).toEqual(
      ['cm-0', 'cm-1', 'cm-3', 'cm-5', 'cm-6', 'cm-7', 'cm-8', 'cm-new2'].map((n) => `${ns}/${n}`).sort(),
    );
    expect(informer.get(`${ns}/cm-1`)?.data?.['v']).toBe('2');
    expect(informer.get(`${ns}/cm-3`)?.data?.['v']).toBe('3');

    // No duplicate deliveries: each (key, resourceVersion) is delivered as add/update at most once ...
    const seen = new Map<string, number>();
    for (const d of deliveries.filter((x) => x.type !== 'delete')) seen.set(`${d.key}@${d.rv}`, (seen.get(`${d.key}@${d.rv}`) ?? 0) + 1);
    expect([...seen].filter(([, n]) => n > 1)).toEqual([]);
    // ... every key's last delivery is its final state: the server's version, or a single delete.
    const byKey = new Map<string, Delivery[]>();
    for (const d of deliveries) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d]);
    for (const [key, ds] of byKey) {
      const last = ds[ds.length - 1] as Delivery;
      if (server.has(key)) {
        expect({ key, type: last.type === 'delete' ? 'delete' : 'present', rv: last.rv }).toEqual({ key, type: 'present', rv: server.get(key) });
      } else {
        expect({ key, type: last.type }).toEqual({ key, type: 'delete' });
        expect(ds.filter((d) => d.type === 'delete')).toHaveLength(1);
      }
    }
    for (const key of server.keys()) expect(byKey.has(key)).toBe(true);
    // Deletes that happened while the informer could not watch were delivered as deletes.
    for (const gone of ['cm-2', 'cm-4']) expect(byKey.get(`${ns}/${gone}`)?.at(-1)?.type).toBe('delete');

    // Round 2: kill again and, while kube-apiserver is down, compact etcd past the informer's version, so
    // resuming is 410 Gone and the informer must relist; changes right after the restart (including a delete)
    // reach it through the relist diff or the new watch.
    const listsBefore = informer.stats.lists;
    await admin.mergePatch({ namespace: ns, name: 'cm-6' }, { data: { v: 'pre-kill-2' } });
    await cluster.stopApiServer('SIGKILL');
    await etcdBumpAndCompact(cluster.etcdUrl);
    await cluster.startApiServer();
    await admin.delete({ namespace: ns, name: 'cm-5' });
    await admin.mergePatch({ namespace: ns, name: 'cm-7' }, { data: { v: 'post-restart-2' } });
    await admin.create(cm('cm-new3', '0'));
    await eventually(converged, 30_000, 'cache converged after the second restart');
    console.log(`[informer] after compaction: stats ${JSON.stringify(informer.stats)}`);
    expect(informer.stats.goneRelists).toBeGreaterThanOrEqual(1);
    expect(informer.stats.lists).toBeGreaterThan(listsBefore);
    const server2 = await serverState();
    expect(new Map([...cacheState()].sort())).toEqual(new Map([...server2].sort()));
    const dels = deliveries.filter((d) => d.key === `${ns}/cm-5` && d.type === 'delete');
    expect(dels).toHaveLength(1);
    const seen2 = new Map<string, number>();
    for (const d of deliveries.filter((x) => x.type !== 'delete')) seen2.set(`${d.key}@${d.rv}`, (seen2.get(`${d.key}@${d.rv}`) ?? 0) + 1);
    expect([...seen2].filter(([, n]) => n > 1)).toEqual([]);
    for (const [key, rv] of server2) expect(deliveries.filter((d) => d.key === key).at(-1)?.rv).toBe(rv);

    // The controller reconciled every key's final state, never one key twice at once.
    await eventually(() => [...server2].every(([k, rv]) => lastSeen.get(k) === rv), 10_000, 'controller saw the final state');
    console.log(`[informer] ${deliveries.length} deliveries, ${reconciles} reconciles, ${overlaps} concurrent reconciles of one key`);
    expect(overlaps).toBe(0);

    await controller.stop();
    await informer.stop();
  });
});
