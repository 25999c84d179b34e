import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Charon } from '../ipsec/charon.ts';
import { ViciClient } from './client.ts';
import { ViciCommandError } from './errors.ts';

/** The VICI client against a real charon (in its own namespace). */
const ns = `stv${randomBytes(3).toString('hex')}`;
let dir: string;
let charon: Charon;
let client: ViciClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'strait-vici-'));
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  charon = new Charon({ dir, netns: ns });
  await charon.start();
  client = new ViciClient({ socketPath: charon.socketPath });
});

afterAll(async () => {
  client?.close();
  await charon?.stop().catch(() => undefined);
  try {
    execFileSync('ip', ['netns', 'del', ns]);
  } catch {
    // gone
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('VICI client against charon', () => {
  it('serialises many concurrent commands on one connection', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? client.version() : client.getConns())));
    expect(results.filter((r) => !Array.isArray(r)).every((r) => (r as { daemon: string }).daemon === 'charon')).toBe(true);
  });

  it('streams list-conns with large nested messages intact', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `conn-${i}`);
    for (const name of names) {
      await client.loadConn(name, {
        version: 2,
        remote_addrs: ['192.168.253.9'],
        local: { auth: 'psk', id: 'me' },
        remote: { auth: 'psk', id: name },
        children: { [name]: { local_ts: Array.from({ length: 20 }, (_, j) => `10.${j}.0.0/16`), remote_ts: ['172.16.0.0/12'] } },
      });
    }
    const conns = await client.listConns();
    expect(conns.map((c) => Object.keys(c)[0]).sort()).toEqual([...names].sort());
    const one = conns.find((c) => 'conn-7' in c)!['conn-7'] as Record<string, Record<string, Record<string, unknown>>>;
    expect(one['children']!['conn-7']!['local-ts']).toHaveLength(20);
    for (const name of names) await client.unloadConn(name);
    expect(await client.getConns()).toEqual([]);
  });

  it('maps charon\'s unknown command and failures to ViciCommandError', async () => {
    await expect(client.request('no-such-command')).rejects.toThrow("VICI command 'no-such-command' failed: the daemon does not know this command");
    await expect(client.unloadConn('never-loaded')).rejects.toBeInstanceOf(ViciCommandError);
    await expect(client.subscribe(['no-such-event'])).rejects.toThrow(/no such event/);
    // The connection is still usable afterwards.
    expect((await client.version()).daemon).toBe('charon');
  });

  it('ends subscriptions with an error when charon stops, and reconnects after a restart', async () => {
    const sub = await client.subscribe(['ike-updown']);
    const next = sub[Symbol.asyncIterator]()
      .next()
      .catch((e: unknown) => e);
    await charon.stop();
    expect(((await next) as Error).message).toMatch(/closed by the daemon|ECONNRESET/);
    await expect(client.version()).rejects.toThrow(/unreachable/);
    await charon.start();
    expect((await client.version()).daemon).toBe('charon');
  });
});
