import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, freePorts } from './ports.ts';

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
