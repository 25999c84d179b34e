import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { LAB_COMMANDS, LabError, labCheck, labFailover, labUp, missingCommands, missingDriverTools } from './client.ts';
import { DEFAULT_LAB_OPTIONS } from './plan.ts';

const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
const io = { stdout: sink(), stderr: sink() };

describe('lab prerequisites', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strait-lab-prereq-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names every missing command with the Debian package that brings it', () => {
    writeFileSync(join(dir, 'ip'), '');
    writeFileSync(join(dir, 'ping'), '');
    expect(missingCommands(dir).map((m) => `${m.command}:${m.pkg}`)).toEqual(['nft:nftables', 'wireguard-go:wireguard-go']);
    expect(missingCommands('').length).toBe(LAB_COMMANDS.length);
  });

  it('names what an IPsec lab needs when strongSwan is missing, and nothing for WireGuard or VXLAN', () => {
    const none = () => undefined;
    expect(missingDriverTools('ipsec', none)).toEqual([expect.stringMatching(/^--driver=ipsec needs strongSwan's charon: install with `apt-get install -y strongswan-charon /)]);
    expect(missingDriverTools('mixed', none)).toHaveLength(1);
    expect(missingDriverTools('wireguard', none)).toEqual([]);
    expect(missingDriverTools('vxlan', none)).toEqual([]);
    expect(missingDriverTools('ipsec', () => '/usr/lib/ipsec/charon')).toEqual([]);
  });

  it('refuses options it cannot build before touching anything', async () => {
    await expect(labUp(join(dir, 'lab'), { ...DEFAULT_LAB_OPTIONS, gateways: 9 }, io)).rejects.toThrow(LabError);
    await expect(labUp(join(dir, 'lab'), { ...DEFAULT_LAB_OPTIONS, gateways: 9 }, io)).rejects.toThrow(/--gateways must be from 1 to 4/);
  });

  it('check and failover without a running lab say how to start one', async () => {
    await expect(labCheck(join(dir, 'none'), { json: false }, io)).rejects.toThrow(/no lab is running .*npm run lab/);
    await expect(labFailover(join(dir, 'none'), { cluster: 'cluster-1', crash: false }, io)).rejects.toThrow(/no lab is running/);
  });
});

describe('lab logs', () => {
  it('shows every process log of a service (one per node) and lists the services when asked for an unknown one', async () => {
    const { mkdirSync } = await import('node:fs');
    const { labLogs } = await import('./client.ts');
    const dir = mkdtempSync(join(tmpdir(), 'strait-lab-logs-'));
    try {
      mkdirSync(join(dir, 'logs', 'cluster-1'), { recursive: true });
      writeFileSync(join(dir, 'logs', 'cluster-1', 'route-agent-cluster-1-g1.log'), 'g1 line\n');
      writeFileSync(join(dir, 'logs', 'cluster-1', 'route-agent-cluster-1-w1.log'), 'w1 line\n');
      writeFileSync(join(dir, 'logs', 'cluster-1', 'broker-sync.log'), 'sync line\n');
      writeFileSync(join(dir, 'logs', 'cluster-1', 'cluster-1-g1-relay.log'), 'relay\n');
      let out = '';
      const cap = { stdout: new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) }), stderr: new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) }) };
      expect(labLogs(dir, 'route-agent', { lines: 5 }, cap)).toBe(0);
      expect(out).toContain('g1 line');
      expect(out).toContain('w1 line');
      expect(out).not.toContain('sync line');
      out = '';
      expect(labLogs(dir, 'nope', { lines: 5 }, cap)).toBe(1);
      expect(out).toMatch(/Services: .*route-agent/);
      expect(out).toContain('broker-sync');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
