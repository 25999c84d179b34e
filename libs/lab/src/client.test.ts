import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { LAB_COMMANDS, LabError, labCheck, labFailover, labUp, missingCommands } from './client.ts';
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

  it('refuses options it cannot build before touching anything', async () => {
    await expect(labUp(join(dir, 'lab'), { ...DEFAULT_LAB_OPTIONS, driver: 'vxlan' }, io)).rejects.toThrow(LabError);
    await expect(labUp(join(dir, 'lab'), { ...DEFAULT_LAB_OPTIONS, driver: 'vxlan' }, io)).rejects.toThrow(/--driver=vxlan is not available yet/);
  });

  it('check and failover without a running lab say how to start one', async () => {
    await expect(labCheck(join(dir, 'none'), { json: false }, io)).rejects.toThrow(/no lab is running .*npm run lab/);
    await expect(labFailover(join(dir, 'none'), { cluster: 'cluster-1', crash: false }, io)).rejects.toThrow(/no lab is running/);
  });
});
