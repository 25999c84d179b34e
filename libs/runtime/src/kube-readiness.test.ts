import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeApiReadinessCheck, loadKubeConfig, probeKubeApi } from './kube-readiness.ts';

// An in-process stand-in for the API server's /readyz and /version (the real one is exercised by the
// apps' integration tests).
let server: Server;
let status = 200;
let seenAuth: string | undefined;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    seenAuth = req.headers.authorization;
    if (req.url === '/readyz' || req.url === '/version') {
      res.statusCode = status;
      res.end(status === 200 ? 'ok' : '[-]etcd failed: reason withheld\nreadyz check failed\n');
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function kc(serverUrl: string): KubeConfig {
  const k = new KubeConfig();
  k.loadFromOptions({
    clusters: [{ name: 'c', server: serverUrl, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'test-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return k;
}

describe('probeKubeApi', () => {
  it('resolves on 200 and sends the credentials', async () => {
    status = 200;
    await probeKubeApi(kc(base));
    expect(seenAuth).toBe('Bearer test-token');
    await probeKubeApi(kc(base), { path: '/version' });
  });

  it('rejects with a one-line reason on a non-200 answer', async () => {
    status = 500;
    await expect(probeKubeApi(kc(base))).rejects.toThrow(`${base}/readyz: HTTP 500 readyz check failed`);
  });

  it('rejects when the server is unreachable', async () => {
    await expect(probeKubeApi(kc('http://127.0.0.1:1'))).rejects.toThrow('http://127.0.0.1:1/readyz: ECONNREFUSED');
  });

  it('is usable as an abortable readiness check', async () => {
    status = 200;
    await kubeApiReadinessCheck(kc(base))(new AbortController().signal);
    const ac = new AbortController();
    ac.abort();
    await expect(kubeApiReadinessCheck(kc(base))(ac.signal)).rejects.toThrow();
  });
});

describe('loadKubeConfig', () => {
  it('names the file when it cannot be loaded', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'strait-kc-'));
    try {
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, 'clusters: [unterminated\n');
      await expect(loadKubeConfig(bad)).rejects.toThrow(`cannot load kubeconfig ${bad}:`);
      const empty = join(dir, 'empty.yaml');
      writeFileSync(empty, 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n');
      await expect(loadKubeConfig(empty)).rejects.toThrow(`kubeconfig ${empty} has no current cluster`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
