import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViciClient } from '../vici/client.ts';
import { ViciCommandError } from '../vici/errors.ts';
import { Charon, renderStrongswanConf } from './charon.ts';

/**
 * A real charon per namespace: private strongswan.conf, VICI socket and pid file; adoption by a second
 * supervisor; VICI commands and events against it; an IKEv2/PSK tunnel between two of them.
 */
const id = randomBytes(3).toString('hex');
const nsA = `stc${id}-a`;
const nsB = `stc${id}-b`;
const PSK = 'strait-charon-test-psk-0123456789';
let dir: string;
let a: Charon;
let b: Charon;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strait-charon-'));
  for (const ns of [nsA, nsB]) {
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  sh('ip', ['link', 'add', 'wan0', 'netns', nsA, 'type', 'veth', 'peer', 'name', 'wan0', 'netns', nsB]);
  sh('ip', ['-n', nsA, 'addr', 'add', '192.168.251.1/24', 'dev', 'wan0']);
  sh('ip', ['-n', nsB, 'addr', 'add', '192.168.251.2/24', 'dev', 'wan0']);
  sh('ip', ['-n', nsA, 'link', 'set', 'wan0', 'up']);
  sh('ip', ['-n', nsB, 'link', 'set', 'wan0', 'up']);
  // kernel-libipsec routes each CHILD_SA through its TUN with a source address inside the local traffic
  // selector; without such an address the route, and with it the CHILD_SA, fails (TS_UNACCEPTABLE).
  for (const [ns, addr] of [[nsA, '10.1.0.1/32'], [nsB, '10.2.0.1/32']] as const) sh('ip', ['-n', ns, 'addr', 'add', addr, 'dev', 'lo']);
  a = new Charon({ dir: join(dir, 'a'), netns: nsA });
  b = new Charon({ dir: join(dir, 'b'), netns: nsB });
});

afterAll(async () => {
  await a?.stop().catch(() => undefined);
  await b?.stop().catch(() => undefined);
  for (const ns of [nsA, nsB]) {
    try {
      for (const pid of sh('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone
    }
    try {
      sh('ip', ['netns', 'del', ns]);
    } catch {
      // gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

function conn(localIp: string, remoteIp: string, me: string, peer: string, lts: string, rts: string) {
  return {
    version: 2,
    local_addrs: [localIp],
    remote_addrs: [remoteIp],
    encap: true,
    proposals: ['aes256gcm16-prfsha256-x25519'],
    local: { auth: 'psk', id: me },
    remote: { auth: 'psk', id: peer },
    children: { [`to-${peer}`]: { local_ts: [lts], remote_ts: [rts], esp_proposals: ['aes256gcm16'], mode: 'tunnel' } },
  };
}

describe('charon supervisor', () => {
  it('starts charon in the namespace with a private config, socket and pid file', async () => {
    const started = await a.start();
    expect(started.adopted).toBe(false);
    await b.start();
    expect(existsSync(join(dir, 'a', 'charon.vici'))).toBe(true);
    expect(existsSync(join(dir, 'a', 'charon.pid'))).toBe(true);
    expect(readFileSync(join(dir, 'a', 'strongswan.conf'), 'utf8')).toContain('kernel-libipsec kernel-netlink');
    expect((await a.vici().version()).daemon).toBe('charon');
    // kernel-libipsec made its TUN inside the namespace, not in ours.
    expect(sh('ip', ['-n', nsA, 'link', 'show', 'ipsec0'])).toContain('ipsec0');
    // charon binds IKE in its namespace only.
    expect(sh('ip', ['netns', 'exec', nsA, 'ss', '-lun'])).toMatch(/:500\b/);
  });

  it('adopts a running charon instead of restarting it', async () => {
    const again = new Charon({ dir: join(dir, 'a'), netns: nsA });
    const res = await again.start();
    expect(res).toEqual({ adopted: true, pid: a.pid });
    again.vici().close();
  });

  it('loads secrets and connections, lists them, and establishes an IKEv2 tunnel with updown events', async () => {
    const va = a.vici();
    const vb = b.vici();
    await va.loadShared({ id: 'psk-b', type: 'IKE', data: PSK, owners: ['gw-a', 'gw-b'] });
    await vb.loadShared({ id: 'psk-a', type: 'IKE', data: PSK, owners: ['gw-a', 'gw-b'] });
    await va.loadConn('gw-b', conn('192.168.251.1', '192.168.251.2', 'gw-a', 'gw-b', '10.1.0.0/24', '10.2.0.0/24'));
    await vb.loadConn('gw-a', conn('192.168.251.2', '192.168.251.1', 'gw-b', 'gw-a', '10.2.0.0/24', '10.1.0.0/24'));
    expect(await va.getConns()).toEqual(['gw-b']);
    const conns = await va.listConns();
    expect(Object.keys(conns[0]!)).toEqual(['gw-b']);
    expect(await va.getShared()).toContain('psk-b');

    const sub = await vb.subscribe(['ike-updown', 'child-updown']);
    const events: string[] = [];
    const collecting = (async () => {
      for await (const ev of sub) {
        events.push(`${ev.name}:${ev.message['up'] as string}`);
        if (events.length === 2) sub.close();
      }
    })();
    await va.initiate({ child: 'to-gw-b', ike: 'gw-b', timeoutMs: 5_000 });
    await collecting;
    expect(events.sort()).toEqual(['child-updown:yes', 'ike-updown:yes']);

    const sas = await va.listSas({ ike: 'gw-b' });
    expect(sas).toHaveLength(1);
    const sa = sas[0]!['gw-b'] as Record<string, unknown>;
    expect(sa['state']).toBe('ESTABLISHED');
    expect(Object.values(sa['child-sas'] as object)[0]).toMatchObject({ state: 'INSTALLED', mode: 'TUNNEL', 'local-ts': ['10.1.0.0/24'], 'remote-ts': ['10.2.0.0/24'] });

    await va.terminate({ ike: 'gw-b', timeoutMs: 5_000 });
    expect(await va.listSas({ ike: 'gw-b' })).toEqual([]);
    await va.unloadConn('gw-b');
    await va.unloadShared('psk-b');
    expect(await va.getConns()).toEqual([]);
  });

  it('reports charon errors as ViciCommandError without echoing the secret', async () => {
    const err = (await a
      .vici()
      .loadConn('bad', { version: 2, remote_addrs: ['not an address%'], local: { auth: 'psk' }, remote: { auth: 'psk' }, children: { x: {} }, secret_ish: PSK })
      .catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ViciCommandError);
    expect(err.message).toMatch(/^VICI command 'load-conn' failed: /);
    expect(err.message).not.toContain(PSK);
  });

  it('never writes the PSK into its log at the configured level', () => {
    expect(readFileSync(join(dir, 'a', 'charon.log'), 'utf8')).not.toContain(PSK);
  });

  it('stops charon and removes its socket; the TUN goes with it', async () => {
    await a.stop();
    expect(a.pid).toBeUndefined();
    expect(existsSync(join(dir, 'a', 'charon.vici'))).toBe(false);
    expect(() => sh('ip', ['-n', nsA, 'link', 'show', 'ipsec0'])).toThrow();
    const probe = new ViciClient({ socketPath: join(dir, 'a', 'charon.vici') });
    await expect(probe.version()).rejects.toThrow(/unreachable \(ENOENT\)/);
    probe.close();
  });

  it('refuses log levels that could print key material', () => {
    expect(() => renderStrongswanConf({ dir, logLevel: 4 as never })).toThrow(/levels above 2 may log key material/);
  });
});
