import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrClient, type WatchEvent } from './cr-client.ts';
import { ConfigMapResource, resourcePath, type ResourceDescriptor } from './descriptor.ts';
import { isConflict, isGone, isNotFound, KubeApiError } from './errors.ts';

const Widget = { group: 'test.strait.io', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true } as const satisfies ResourceDescriptor;
interface W {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: { size?: number };
}

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

/** A loopback HTTP server playing the API server with scripted answers. */
let server: ReturnType<typeof createServer>;
let kc: KubeConfig;
const seen: Seen[] = [];
let answer: (req: IncomingMessage, body: string, res: ServerResponse) => void = () => undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body });
      answer(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'test-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const json = (res: ServerResponse, status: number, obj: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(obj));
};
const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });

describe('resourcePath', () => {
  it('builds core, group, namespaced, cluster-wide and subresource paths', () => {
    expect(resourcePath(ConfigMapResource, { namespace: 'ns', name: 'a' })).toBe('/api/v1/namespaces/ns/configmaps/a');
    expect(resourcePath(Widget, {})).toBe('/apis/test.strait.io/v1/widgets');
    expect(resourcePath(Widget, { namespace: 'ns', name: 'a', subresource: 'status' })).toBe('/apis/test.strait.io/v1/namespaces/ns/widgets/a/status');
  });
});

describe('CrClient over HTTP', () => {
  it('uses the right verbs, paths and content types for each operation', async () => {
    seen.length = 0;
    answer = (req, body, res) => json(res, 200, body ? { ...JSON.parse(body), metadata: { name: 'a', namespace: 'ns', resourceVersion: '5' } } : { metadata: { name: 'a', namespace: 'ns' } });
    const c = new CrClient<W>(kc, Widget, { fieldManager: 'strait-test' });
    const w: W = { metadata: { name: 'a', namespace: 'ns' }, spec: { size: 1 } };
    const created = await c.create(w);
    expect(created.apiVersion).toBe('test.strait.io/v1');
    await c.replace({ ...w, metadata: { ...w.metadata, resourceVersion: '5' } });
    await c.mergePatch({ namespace: 'ns', name: 'a' }, { spec: { size: 2 } });
    await c.jsonPatch({ namespace: 'ns', name: 'a' }, [{ op: 'replace', path: '/spec/size', value: 3 }]);
    await c.apply({ metadata: { name: 'a', namespace: 'ns' }, spec: { size: 4 } }, { force: true });
    await c.patchStatus({ namespace: 'ns', name: 'a' }, { status: { ready: true } });
    await c.updateStatus(w);
    const rows = seen.map((s) => `${s.method} ${s.url} ${s.contentType ?? '-'}`);
    expect(rows).toEqual([
      'POST /apis/test.strait.io/v1/namespaces/ns/widgets?fieldManager=strait-test application/json',
      'PUT /apis/test.strait.io/v1/namespaces/ns/widgets/a?fieldManager=strait-test application/json',
      'PATCH /apis/test.strait.io/v1/namespaces/ns/widgets/a?fieldManager=strait-test application/merge-patch+json',
      'PATCH /apis/test.strait.io/v1/namespaces/ns/widgets/a?fieldManager=strait-test application/json-patch+json',
      'PATCH /apis/test.strait.io/v1/namespaces/ns/widgets/a?fieldManager=strait-test&force=true application/apply-patch+yaml',
      'PATCH /apis/test.strait.io/v1/namespaces/ns/widgets/a/status?fieldManager=strait-test application/merge-patch+json',
      'PUT /apis/test.strait.io/v1/namespaces/ns/widgets/a/status?fieldManager=strait-test application/json',
    ]);
    expect(JSON.parse(seen[4]?.body ?? '{}')).toMatchObject({ apiVersion: 'test.strait.io/v1', kind: 'Widget' });
  });

  it('get → undefined on 404; other failures are KubeApiErrors naming the object and the status', async () => {
    answer = (_req, _b, res) => json(res, 404, status(404, 'NotFound', 'widgets "a" not found'));
    const c = new CrClient<W>(kc, Widget);
    expect(await c.get({ namespace: 'ns', name: 'a' })).toBeUndefined();
    expect(await c.delete({ namespace: 'ns', name: 'a' })).toBe(false);
    answer = (_req, _b, res) => json(res, 409, status(409, 'Conflict', 'the object has been modified'));
    const err = await c.replace({ metadata: { name: 'a', namespace: 'ns', resourceVersion: '1' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(isConflict(err)).toBe(true);
    expect(isNotFound(err)).toBe(false);
    expect((err as Error).message).toBe('replace Widget ns/a: HTTP 409 Conflict: the object has been modified');
  });

  it('pages through list results and returns the collection resourceVersion', async () => {
    seen.length = 0;
    answer = (req, _b, res) => {
      const u = new URL(req.url ?? '', 'http://x');
      if (!u.searchParams.get('continue')) json(res, 200, { metadata: { resourceVersion: '100', continue: 'p2' }, items: [{ metadata: { name: 'a' } }] });
      else json(res, 200, { metadata: { resourceVersion: '101' }, items: [{ metadata: { name: 'b' } }] });
    };
    const c = new CrClient<W>(kc, Widget);
    const r = await c.list({ namespace: 'ns', labelSelector: 'app=x', pageSize: 1 });
    expect(r.resourceVersion).toBe('100');
    expect(r.items.map((i) => [i.metadata.name, i.kind])).toEqual([['a', 'Widget'], ['b', 'Widget']]);
    expect(seen[0]?.url).toBe('/apis/test.strait.io/v1/namespaces/ns/widgets?labelSelector=app%3Dx&limit=1');
  });

  it('streams watch events and turns an in-stream 410 into a Gone error', async () => {
    seen.length = 0;
    answer = (_req, _b, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '2' } } }) + '\n');
      res.write(JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '3' } } }) + '\n{"type":"MODI');
      setTimeout(() => {
        res.write('FIED","object":{"metadata":{"name":"a","resourceVersion":"4"}}}\n');
        res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version') }) + '\n');
      }, 10);
    };
    const c = new CrClient<W>(kc, Widget);
    const events: Array<WatchEvent<W>> = [];
    const err = await c
      .watch({ namespace: 'ns', resourceVersion: '1', allowWatchBookmarks: true, timeoutSeconds: 30 }, (e) => events.push(e))
      .catch((e: unknown) => e);
    expect(events.map((e) => `${e.type} ${e.object.metadata.resourceVersion}`)).toEqual(['ADDED 2', 'BOOKMARK 3', 'MODIFIED 4']);
    expect(isGone(err)).toBe(true);
    expect(seen[0]?.url).toBe('/apis/test.strait.io/v1/namespaces/ns/widgets?watch=true&resourceVersion=1&allowWatchBookmarks=true&timeoutSeconds=30');
  });

  it('a watch ends quietly when aborted, and with an error when the connection breaks', async () => {
    answer = (_req, _b, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('\n');
    };
    const c = new CrClient<W>(kc, Widget);
    const ac = new AbortController();
    const p = c.watch({ signal: ac.signal }, () => undefined);
    setTimeout(() => ac.abort(), 20);
    await expect(p).resolves.toBeUndefined();

    answer = (req, _b, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('\n');
      setTimeout(() => req.socket.destroy(), 10);
    };
    const err = await c.watch({}, () => undefined).catch((e: unknown) => e);
    // Either the stream errors (status 0) or ends; a destroyed socket mid-chunked-body is an error.
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).status).toBe(0);
  });

  it('rejects bad input before any request', async () => {
    const c = new CrClient<W>(kc, Widget);
    seen.length = 0;
    await expect(c.get({ name: 'a' })).rejects.toThrow('get Widget a: metadata.namespace is required (Widget is namespaced)');
    await expect(c.create({ metadata: { name: '', namespace: 'ns' } })).rejects.toThrow(/metadata.name/);
    await expect(c.patch({ namespace: 'ns', name: 'a' }, [{ op: 'add' }], { type: 'merge' })).rejects.toThrow(/must be an object/);
    await expect(c.patch({ namespace: 'ns', name: 'a' }, {}, { type: 'json' })).rejects.toThrow(/array of operations/);
    expect(seen).toHaveLength(0);
    expect(() => new CrClient(kc, { ...Widget, plural: 'Widgets/../x' })).toThrow(/plural/);
  });

  it('reports a refused connection as status 0 with the cause', async () => {
    const dead = new KubeConfig();
    dead.loadFromOptions({
      clusters: [{ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const err = await new CrClient<W>(dead, Widget).get({ namespace: 'ns', name: 'a' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).status).toBe(0);
    expect((err as Error).message).toMatch(/^get Widget ns\/a: no response/);
  });
});
