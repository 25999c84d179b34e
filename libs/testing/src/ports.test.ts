import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, freePorts, isPortClash, withPortRetry } from './ports.ts';
import { ProcessFailedError } from './process.ts';

describe('freePort', () => {
  it('hands out distinct ports that can be bound on loopback', async () => {
    const ports = await freePorts(20);
    expect(new Set(ports).size).toBe(20);
    const more = await Promise.all([freePort(), freePort(), freePort()]);
    expect(ports.filter((p) => more.includes(p))).toEqual([]);
    await new Promise<void>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(ports[0], '127.0.0.1', () => srv.close(() => resolve()));
    });
  });
});

describe('withPortRetry', () => {
  const clash = () => new ProcessFailedError('etcd exited', 'listen tcp 127.0.0.1:5: bind: address already in use');

  it('retries after a port clash and gives up after the last try', async () => {
    let calls = 0;
    expect(await withPortRetry(async () => (++calls < 3 ? Promise.reject(clash()) : 'ok'))).toBe('ok');
    expect(calls).toBe(3);
    calls = 0;
    await expect(withPortRetry(async () => (calls++, Promise.reject(clash())), 2)).rejects.toThrow(/etcd exited/);
    expect(calls).toBe(2);
  });

  it('does not retry other failures', async () => {
    let calls = 0;
    await expect(withPortRetry(async () => (calls++, Promise.reject(new Error('boom'))))).rejects.toThrow('boom');
    expect(calls).toBe(1);
    expect(isPortClash(new ProcessFailedError('x', 'permission denied'))).toBe(false);
  });
});
