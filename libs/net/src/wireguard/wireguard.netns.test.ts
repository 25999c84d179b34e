import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRunner } from '../exec.ts';
import { generateKeyPair, generatePresharedKey } from './keys.ts';
import { ensureWireGuardLink, findWireGuardLink, removeWireGuardLink, type WireGuardLinkOptions } from './link.ts';
import { isDaemonAlive, readDaemonState } from './userspace.ts';
import { WgCli } from './wg-cli.ts';

/**
 * Userspace WireGuard (wireguard-go) in two namespaces with the same interface name: private UAPI socket
 * directories, configuration over UAPI, a real handshake, adoption, the `wg` CLI path, removal.
 */
const id = randomBytes(3).toString('hex');
const nsA = `stw${id}-a`;
const nsB = `stw${id}-b`;
const runner = execRunner();
let dir: string;
const keysA = generateKeyPair();
const keysB = generateKeyPair();
const psk = generatePresharedKey();

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' });
}

function opts(ns: string, extra: Partial<WireGuardLinkOptions> = {}): WireGuardLinkOptions {
  return { ifname: 'strait-wg0', netns: ns, runner, runDir: join(dir, ns), alias: 'strait:test-wireguard', ...extra };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strait-wg-'));
  for (const ns of [nsA, nsB]) {
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  sh('ip', ['link', 'add', 'wan0', 'netns', nsA, 'type', 'veth', 'peer', 'name', 'wan0', 'netns', nsB]);
  sh('ip', ['-n', nsA, 'addr', 'add', '192.168.252.1/24', 'dev', 'wan0']);
  sh('ip', ['-n', nsB, 'addr', 'add', '192.168.252.2/24', 'dev', 'wan0']);
  sh('ip', ['-n', nsA, 'link', 'set', 'wan0', 'up']);
  sh('ip', ['-n', nsB, 'link', 'set', 'wan0', 'up']);
});

afterAll(async () => {
  for (const ns of [nsA, nsB]) {
    await removeWireGuardLink(opts(ns)).catch(() => undefined);
    try {
      for (const pid of sh('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
      sh('ip', ['netns', 'del', ns]);
    } catch {
      // gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('userspace WireGuard link', () => {
  it('starts wireguard-go per namespace with the same interface name and private UAPI sockets', async () => {
    const a = await ensureWireGuardLink(opts(nsA, { implementation: 'wireguard-go' }));
    const b = await ensureWireGuardLink(opts(nsB));
    expect(a.implementation).toBe('wireguard-go');
    expect(b.implementation).toBe('wireguard-go'); // auto: no kernel module here
    expect(a.adopted).toBe(false);
    expect(existsSync(join(dir, nsA, 'strait-wg0.sock'))).toBe(true);
    expect(existsSync(join(dir, nsB, 'strait-wg0.sock'))).toBe(true);
    expect(sh('ip', ['-n', nsA, '-d', 'link', 'show', 'strait-wg0'])).toContain('alias strait:test-wireguard');
  });

  it('configures both ends over UAPI and completes a handshake', async () => {
    const a = (await findWireGuardLink(opts(nsA)))!;
    const b = (await findWireGuardLink(opts(nsB)))!;
    await a.control.set({ privateKey: keysA.privateKey, listenPort: 51820, peers: [{ publicKey: keysB.publicKey, presharedKey: psk, endpoint: '192.168.252.2:51820', persistentKeepalive: 1, replaceAllowedIps: true, allowedIps: ['10.2.0.0/24'] }] });
    await b.control.set({ privateKey: keysB.privateKey, listenPort: 51820, peers: [{ publicKey: keysA.publicKey, presharedKey: psk, endpoint: '192.168.252.1:51820', persistentKeepalive: 1, replaceAllowedIps: true, allowedIps: ['10.1.0.0/24'] }] });
    let state = await a.control.get();
    for (let i = 0; i < 50 && !state.peers[0]?.lastHandshake; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = await a.control.get();
    }
    expect(state.publicKey).toBe(keysA.publicKey);
    expect(state.listenPort).toBe(51820);
    expect(state.peers).toHaveLength(1);
    expect(state.peers[0]).toMatchObject({ publicKey: keysB.publicKey, hasPresharedKey: true, endpoint: '192.168.252.2:51820', allowedIps: ['10.2.0.0/24'], persistentKeepalive: 1 });
    expect(state.peers[0]!.lastHandshake).toBeInstanceOf(Date);
    expect(state.peers[0]!.rxBytes).toBeGreaterThan(0);
  });

  it('adopts the running interface: same ifindex, same daemon', async () => {
    const before = readDaemonState(join(dir, nsA), 'strait-wg0');
    const first = (await findWireGuardLink(opts(nsA)))!;
    const again = await ensureWireGuardLink(opts(nsA));
    expect(again.adopted).toBe(true);
    expect(again.ifindex).toBe(first.ifindex);
    expect(readDaemonState(join(dir, nsA), 'strait-wg0')?.pid).toBe(before?.pid);
    await expect(ensureWireGuardLink(opts(nsA, { implementation: 'kernel' }))).rejects.toThrow(/exists with implementation wireguard-go, but kernel is configured/);
  });

  it('refuses an interface of that name that is not Strait\'s', async () => {
    sh('ip', ['-n', nsB, 'link', 'add', 'foreign0', 'type', 'veth', 'peer', 'name', 'foreign1']);
    await expect(ensureWireGuardLink(opts(nsB, { ifname: 'foreign0' }))).rejects.toThrow(/exists and is not Strait's \(alias unset, expected 'strait:test-wireguard'\); refusing to touch it/);
    expect(sh('ip', ['-n', nsB, 'link', 'show', 'foreign0'])).toContain('foreign0');
  });

  it('drives a userspace interface through the wg CLI when its socket is in the standard place', async () => {
    const ifname = `wgt${id}`;
    const std = opts(nsA, { ifname, runDir: '/run/wireguard' });
    try {
      await ensureWireGuardLink(std);
      const wg = new WgCli(ifname, runner, nsA);
      const peer = generateKeyPair();
      await wg.set({ privateKey: keysA.privateKey, listenPort: 51999, peers: [{ publicKey: peer.publicKey, presharedKey: psk, endpoint: '192.168.252.9:1', replaceAllowedIps: true, allowedIps: ['10.9.0.0/24'] }] });
      const state = await wg.get();
      expect(state).toMatchObject({ publicKey: keysA.publicKey, listenPort: 51999 });
      expect(state.peers[0]).toMatchObject({ publicKey: peer.publicKey, hasPresharedKey: true, allowedIps: ['10.9.0.0/24'], endpoint: '192.168.252.9:1' });
      await wg.set({ peers: [{ publicKey: peer.publicKey, remove: true }] });
      expect((await wg.get()).peers).toEqual([]);
    } finally {
      await removeWireGuardLink(std);
    }
  });

  it('removal deletes the link and stops the daemon', async () => {
    const state = readDaemonState(join(dir, nsB), 'strait-wg0');
    expect(isDaemonAlive(state)).toBe(true);
    await removeWireGuardLink(opts(nsB));
    expect(isDaemonAlive(state)).toBe(false);
    expect(() => sh('ip', ['-n', nsB, 'link', 'show', 'strait-wg0'])).toThrow();
    expect(existsSync(join(dir, nsB, 'strait-wg0.sock'))).toBe(false);
  });
});
