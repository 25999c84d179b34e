import { afterEach, describe, expect, it } from 'vitest';
import { registerBuildInfo, createRegistry } from './metrics.ts';
import { ProbeServer } from './probe-server.ts';

const servers: ProbeServer[] = [];
function make(checkTimeoutMs?: number): ProbeServer {
  const registry = createRegistry();
  registerBuildInfo(registry, { service: 'test', version: '0.0.1' });
  const s = new ProbeServer({ registry, ...(checkTimeoutMs ? { checkTimeoutMs } : {}) });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('ProbeServer', () => {
  it('/livez answers 200 ok', async () => {
    const res = await make().app.inject({ method: 'GET', url: '/livez' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('ok');
  });

  it('/readyz is ok when every check passes (and with no checks)', async () => {
    const s = make();
    expect((await s.app.inject('/readyz')).body).toBe('ok');
    s.addCheck('kube-api', async () => undefined);
    s.addCheck('sync', () => undefined);
    const res = await s.app.inject('/readyz');
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('ok');
  });

  it('/readyz?verbose lists every check', async () => {
    const s = make();
    s.addCheck('kube-api', async () => undefined);
    s.addCheck('nats', async () => undefined);
    const res = await s.app.inject('/readyz?verbose');
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('[+]kube-api ok\n[+]nats ok\nreadyz check passed\n');
  });

  it('/readyz answers 503 listing only the failing checks', async () => {
    const s = make();
    s.addCheck('kube-api', async () => undefined);
    s.addCheck('nats', async () => {
      throw new Error('connection refused\n  (127.0.0.1:4222)');
    });
    s.addCheck('informers', () => {
      throw new Error('not synced');
    });
    const res = await s.app.inject('/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.body).toBe('[-]nats failed: connection refused (127.0.0.1:4222)\n[-]informers failed: not synced\nreadyz check failed\n');
    const verbose = await s.app.inject('/readyz?verbose=true');
    expect(verbose.statusCode).toBe(503);
    expect(verbose.body).toContain('[+]kube-api ok');
    expect(verbose.body).toContain('[-]nats failed');
  });

  it('an informational check that fails is shown by ?verbose but does not make /readyz answer 503', async () => {
    const s = make();
    s.addCheck('kube-api', async () => undefined);
    s.addCheck('nats', () => {
      throw new Error('disconnected');
    }, { gating: false });
    const res = await s.app.inject('/readyz');
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('ok');
    const verbose = await s.app.inject('/readyz?verbose');
    expect(verbose.statusCode).toBe(200);
    expect(verbose.body).toBe('[+]kube-api ok\n[!]nats degraded: disconnected\nreadyz check passed\n');
    s.addCheck('informers', () => {
      throw new Error('not synced');
    });
    const failing = await s.app.inject('/readyz');
    expect(failing.statusCode).toBe(503);
    expect(failing.body).toBe('[-]informers failed: not synced\nreadyz check failed\n');
  });

  it('a hanging check fails after the timeout and is aborted', async () => {
    const s = make(50);
    let aborted = false;
    s.addCheck('slow', (signal) => new Promise<void>(() => signal.addEventListener('abort', () => (aborted = true))));
    const res = await s.app.inject('/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('[-]slow failed: timed out after 50 ms');
    expect(aborted).toBe(true);
  });

  it('fails readiness once shutting down', async () => {
    const s = make();
    s.addCheck('kube-api', () => undefined);
    s.markShuttingDown();
    const res = await s.app.inject('/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('[-]shutdown failed: process is shutting down');
    expect((await s.app.inject('/livez')).statusCode).toBe(200);
  });

  it('rejects bad check names and can remove checks', async () => {
    const s = make();
    expect(() => s.addCheck('Bad Name', () => undefined)).toThrow(/readiness check name "Bad Name"/);
    s.addCheck('gone', () => {
      throw new Error('x');
    });
    s.removeCheck('gone');
    expect((await s.app.inject('/readyz')).statusCode).toBe(200);
  });

  it('/metrics serves the Prometheus text format with process metrics and build info', async () => {
    const res = await make().app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toMatch(/^process_cpu_seconds_total /m);
    expect(res.body).toMatch(/^strait_build_info\{service="test",version="0\.0\.1"/m);
  });

  it('listens on a real port and closes', async () => {
    const s = make();
    const { port } = await s.listen('127.0.0.1', 0);
    expect(port).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${port}/livez`);
    expect(await res.text()).toBe('ok');
    await s.close();
    await s.close();
    await expect(fetch(`http://127.0.0.1:${port}/livez`)).rejects.toThrow();
  });
});
