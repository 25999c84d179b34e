import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labCheck, labDown, labFailover, labStatus, labUp } from './client.ts';
import { DEFAULT_LAB_OPTIONS, type LabDriver, type LabOptions } from './plan.ts';
import { labFiles } from './paths.ts';
import { allPids, pidAlive, readState } from './state.ts';
import { capture } from './testing/capture.ts';

/**
 * The lab with each cable driver negotiated through the Broker (docs/adr/0011): IPsec and VXLAN labs of two
 * clusters (up, check, graceful failover, check), and a mixed lab of three clusters where every pair has
 * one driver in common (a WireGuard, an IPsec and a VXLAN tunnel; every gateway runs two drivers).
 * Figures are printed, not asserted. Each lab is as small as it can be: one worker, the default gateways.
 */

const io = () => {
  const out = capture();
  const err = capture();
  return { out, err, io: { stdout: out.stream, stderr: err.stream } };
};

interface Tunnel {
  cluster: string;
  peer: string;
  backend: string;
  endpoint: string;
  phase: string;
}

async function tunnels(dir: string): Promise<Tunnel[]> {
  const t = io();
  expect(await labStatus(dir, { json: true }, t.io)).toBe(0);
  const status = JSON.parse(t.out.text) as { clusters: Array<{ tunnels: Tunnel[] }> };
  return status.clusters.flatMap((c) => c.tunnels).map(({ cluster, peer, backend, endpoint, phase }) => ({ cluster, peer, backend, endpoint, phase }));
}

/** One lab per describe: up in the first test, down in the last, and down again in afterAll whatever happened. */
function labLifecycle(prefix: string, options: LabOptions): { dir: string; up: () => Promise<string>; down: () => Promise<void> } {
  const dir = join(mkdtempSync(join(tmpdir(), `strait-lab-${prefix}-`)), 'lab');
  afterAll(async () => {
    await labDown(dir, io().io);
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });
  return {
    dir,
    async up() {
      const t = io();
      const t0 = performance.now();
      const code = await labUp(dir, options, t.io);
      console.log(`[lab --driver ${options.driver}] up in ${((performance.now() - t0) / 1000).toFixed(1)} s\n${t.out.text}`);
      expect(t.err.text).toBe('');
      expect(code).toBe(0);
      return t.out.text;
    },
    async down() {
      const pids = allPids(readState(labFiles(dir).state)!);
      expect(await labDown(dir, io().io)).toBe(0);
      expect(pids.filter(pidAlive)).toEqual([]);
      expect(existsSync(dir)).toBe(false);
    },
  };
}

async function check(dir: string, label: string, paths: number): Promise<void> {
  const c = io();
  const code = await labCheck(dir, { json: false }, c.io);
  console.log(`[${label}] check\n${c.out.text}`);
  expect(c.out.text).toContain(`All ${paths} pod-to-pod paths work.`);
  expect(code).toBe(0);
}

async function gracefulFailover(dir: string, label: string, cluster: string): Promise<void> {
  const t = io();
  expect(await labFailover(dir, { cluster, crash: false, json: true }, t.io)).toBe(0);
  const r = JSON.parse(t.out.text) as { from: string; to: string; newActiveMs: number; tunnelsMs: number };
  console.log(
    `[${label}] graceful failover of ${cluster} ${r.from} → ${r.to}: new active after ${r.newActiveMs} ms; ` +
      `the peer's TunnelEndpoint re-pointed at the new gateway's Endpoint (broker-sync) and Connected after ${r.tunnelsMs} ms`,
  );
  expect(r.to).not.toBe(r.from);
}

const PORTS: Record<Exclude<LabDriver, 'mixed'>, number> = { wireguard: 51820, ipsec: 500, vxlan: 4789 };

for (const driver of ['ipsec', 'vxlan'] as const) {
  describe(`straitctl lab --driver ${driver}`, () => {
    const label = `lab --driver ${driver}`;
    const lab = labLifecycle(driver, { ...DEFAULT_LAB_OPTIONS, driver, workers: 1 });

    it(`comes up with ${driver} tunnels both ways, and pods reach each other`, async () => {
      const out = await lab.up();
      for (const c of ['cluster-1', 'cluster-2']) {
        expect(out).toMatch(new RegExp(`${c}\\s+cluster-\\d\\s+${driver}\\s+172\\.31\\.0\\.\\d+:${PORTS[driver]}\\s+Connected`));
      }
      expect((await tunnels(lab.dir)).map((t) => [t.backend, t.phase])).toEqual([
        [driver, 'Connected'],
        [driver, 'Connected'],
      ]);
      await check(lab.dir, label, 2);
    });

    it('graceful failover of cluster-1: the peer follows the new gateway, the check passes again', async () => {
      await gracefulFailover(lab.dir, label, 'cluster-1');
      await check(lab.dir, label, 2);
    });

    it('down leaves nothing', async () => {
      await lab.down();
    });
  });
}

describe('straitctl lab --driver mixed (3 clusters)', () => {
  const label = 'lab --driver mixed';
  const lab = labLifecycle('mixed', { ...DEFAULT_LAB_OPTIONS, driver: 'mixed', clusters: 3, workers: 1 });

  it('comes up with one WireGuard, one IPsec and one VXLAN pair, and every pod reaches the others', async () => {
    const out = await lab.up();
    expect(out).toMatch(/\swireguard\s/);
    expect(out).toMatch(/\sipsec\s/);
    expect(out).toMatch(/\svxlan\s/);
    const all = await tunnels(lab.dir);
    const expected: Record<string, Exclude<LabDriver, 'mixed'>> = { 'cluster-1/cluster-2': 'wireguard', 'cluster-1/cluster-3': 'vxlan', 'cluster-2/cluster-3': 'ipsec' };
    expect(all).toHaveLength(6);
    for (const t of all) {
      const backend = expected[[t.cluster, t.peer].sort().join('/')]!;
      expect(t, `${t.cluster} → ${t.peer}`).toMatchObject({ backend, phase: 'Connected', endpoint: expect.stringMatching(new RegExp(`:${PORTS[backend]}$`)) });
    }
    await check(lab.dir, label, 6);
  });

  it('down leaves nothing', async () => {
    await lab.down();
  });
});
