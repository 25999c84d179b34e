import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigMapResource } from './descriptor.ts';
import { FakeKubeApi } from './fake-api.ts';
import { Informer } from './informer.ts';

interface CM {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
}

const cm = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>): CM => ({
  metadata: { name, namespace: 'ns', ...(labels ? { labels } : {}) },
  data,
});

function recorder() {
  const log: string[] = [];
  return {
    log,
    handlers: {
      onAdd: (o: CM) => log.push(`add ${o.metadata.name} ${JSON.stringify(o.data)}`),
      onUpdate: (_old: CM, o: CM) => log.push(`update ${o.metadata.name} ${JSON.stringify(o.data)}`),
      onDelete: (o: CM, info: { finalStateUnknown: boolean }) =>
        log.push(`delete ${o.metadata.name}${info.finalStateUnknown ? ' (relist)' : ''}`),
    },
  };
}

const fakes: FakeKubeApi[] = [];
const informers: Array<Informer<CM>> = [];
function setup(opts: Partial<ConstructorParameters<typeof Informer<CM>>[0]> = {}) {
  const api = new FakeKubeApi();
  const client = api.client<CM>(ConfigMapResource, { admin: true });
  const inf = new Informer<CM>({ client: api.client<CM>(ConfigMapResource), backoff: { initialMs: 5, maxMs: 20 }, ...opts });
  fakes.push(api);
  informers.push(inf);
  return { api, client, inf };
}

afterEach(async () => {
  for (const i of informers.splice(0)) await i.stop();
  for (const f of fakes.splice(0)) f.stop();
});

describe('Informer', () => {
  it('lists, syncs, then delivers add/update/delete and keeps a cache keyed namespace/name', async () => {
    const { client, inf } = setup();
    await client.create(cm('a', { v: '1' }));
    const r = recorder();
    inf.addEventHandler(r.handlers);
    expect(inf.hasSynced()).toBe(false);
    inf.start();
    await inf.waitForSync({ timeoutMs: 1000 });
    expect(inf.hasSynced()).toBe(true);
    expect(inf.keys()).toEqual(['ns/a']);
    await client.create(cm('b', { v: '1' }));
    await client.patch({ namespace: 'ns', name: 'a' }, { data: { v: '2' } });
    await client.delete({ namespace: 'ns', name: 'b' });
    await vi.waitFor(() => expect(r.log).toHaveLength(4));
    expect(r.log).toEqual(['add a {"v":"1"}', 'add b {"v":"1"}', 'update a {"v":"2"}', 'delete b']);
    expect(inf.getByRef({ namespace: 'ns', name: 'a' })?.data).toEqual({ v: '2' });
    expect(inf.get('ns/b')).toBeUndefined();
  });

  it('relists on 410 Gone and resyncs the final state: deletes as deletes, no duplicate of unchanged objects', async () => {
    const { api, client, inf } = setup();
    for (const n of ['keep', 'change', 'gone']) await client.create(cm(n, { v: '1' }));
    const r = recorder();
    inf.addEventHandler(r.handlers);
    inf.start();
    await inf.waitForSync();
    await vi.waitFor(() => expect(r.log).toHaveLength(3));
    // The API server goes away; things change before the informer can see them (the test's admin client
    // bypasses the outage), and the server comes back with a fresh watch cache: resuming is 410 Gone.
    api.setDown(true);
    await client.patch({ namespace: 'ns', name: 'change' }, { data: { v: '2' } });
    await client.delete({ namespace: 'ns', name: 'gone' });
    await client.create(cm('new', { v: '1' }));
    api.restart();
    api.setDown(false);
    await vi.waitFor(() => expect(inf.stats.goneRelists).toBeGreaterThanOrEqual(1));
    await vi.waitFor(() => expect(r.log).toHaveLength(6));
    expect(r.log.slice(3).sort()).toEqual(['add new {"v":"1"}', 'delete gone (relist)', 'update change {"v":"2"}']);
    expect(inf.keys().sort()).toEqual(['ns/change', 'ns/keep', 'ns/new']);
    // later events still flow
    await client.patch({ namespace: 'ns', name: 'keep' }, { data: { v: '3' } });
    await vi.waitFor(() => expect(r.log.at(-1)).toBe('update keep {"v":"3"}'));
  });

  it('resumes from the last resourceVersion after a broken watch: nothing lost, nothing duplicated', async () => {
    const { api, client, inf } = setup();
    const r = recorder();
    inf.addEventHandler(r.handlers);
    inf.start();
    await inf.waitForSync();
    await client.create(cm('a', { v: '1' }));
    await vi.waitFor(() => expect(r.log).toHaveLength(1));
    api.setDown(true); // breaks the watch; list/watch retries fail for a while
    await new Promise((res) => setTimeout(res, 30));
    api.setDown(false);
    await client.patch({ namespace: 'ns', name: 'a' }, { data: { v: '2' } });
    await client.create(cm('b'));
    await vi.waitFor(() => expect(r.log).toHaveLength(3));
    expect(r.log).toEqual(['add a {"v":"1"}', 'update a {"v":"2"}', 'add b {}']);
    expect(inf.stats.errorRestarts).toBeGreaterThanOrEqual(1);
    expect(inf.stats.lists).toBe(1); // resumed, no relist needed
  });

  it('the watchdog restarts a silent (hung) watch and catches up', async () => {
    const { api, client, inf } = setup({ maxSilenceMs: 100 });
    const r = recorder();
    inf.addEventHandler(r.handlers);
    inf.start();
    await inf.waitForSync();
    await vi.waitFor(() => expect(api.openWatches).toBe(1));
    api.silenceWatches();
    await client.create(cm('a'));
    await new Promise((res) => setTimeout(res, 20));
    expect(r.log).toHaveLength(0); // the hung watch did not deliver
    await vi.waitFor(() => expect(r.log).toEqual(['add a {}']), { timeout: 2000 });
    expect(inf.stats.watchdogRestarts).toBeGreaterThanOrEqual(1);
  });

  it('renews a watch the server ends (timeoutSeconds) without relisting', async () => {
    const { client, inf } = setup({ watchTimeoutSeconds: 1 });
    const r = recorder();
    inf.addEventHandler(r.handlers);
    inf.start();
    await inf.waitForSync();
    await new Promise((res) => setTimeout(res, 1600));
    await client.create(cm('a'));
    await vi.waitFor(() => expect(r.log).toEqual(['add a {}']));
    expect(inf.stats.watches).toBeGreaterThanOrEqual(2);
    expect(inf.stats.lists).toBe(1);
  });

  it('applies label selectors', async () => {
    const { client, inf } = setup({ labelSelector: 'app=strait' });
    const r = recorder();
    inf.addEventHandler(r.handlers);
    await client.create(cm('x', {}, { app: 'other' }));
    await client.create(cm('y', {}, { app: 'strait' }));
    inf.start();
    await inf.waitForSync();
    await client.create(cm('z', {}, { app: 'strait' }));
    await client.create(cm('w', {}, { app: 'other' }));
    await vi.waitFor(() => expect(r.log).toHaveLength(2));
    await new Promise((res) => setTimeout(res, 10));
    expect(r.log).toEqual(['add y {}', 'add z {}']);
  });

  it('replays the cache to a handler added late', async () => {
    const { client, inf } = setup();
    await client.create(cm('a'));
    inf.start();
    await inf.waitForSync();
    const r = recorder();
    inf.addEventHandler(r.handlers);
    expect(r.log).toEqual(['add a {}']);
  });

  it('stop() ends the loop: no more deliveries, waitForSync rejects if never synced', async () => {
    const { api, client, inf } = setup();
    const r = recorder();
    inf.addEventHandler(r.handlers);
    inf.start();
    await inf.waitForSync();
    await inf.stop();
    await client.create(cm('a'));
    await new Promise((res) => setTimeout(res, 10));
    expect(r.log).toEqual([]);
    expect(api.openWatches).toBe(0);

    const other = setup();
    other.api.setDown(true);
    other.inf.start();
    const waiting = other.inf.waitForSync();
    await other.inf.stop();
    await expect(waiting).rejects.toThrow(/stopped before it synced/);
  });

  it('a throwing handler does not break delivery to others', async () => {
    const { client, inf } = setup();
    const r = recorder();
    inf.addEventHandler({ onAdd: () => { throw new Error('boom'); } });
    inf.addEventHandler(r.handlers);
    inf.start();
    await inf.waitForSync();
    await client.create(cm('a'));
    await vi.waitFor(() => expect(r.log).toEqual(['add a {}']));
  });
});
