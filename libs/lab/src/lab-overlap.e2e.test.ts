import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labCheck, labDown, labUp } from './client.ts';
import { DEFAULT_LAB_OPTIONS } from './plan.ts';
import { labFiles } from './paths.ts';
import { capture } from './testing/capture.ts';
import { allPids, pidAlive, readState } from './state.ts';


/** Three clusters with the same pod CIDR: broker-sync remaps, and every pod reaches the others through the remapped addresses. */
describe('straitctl lab --overlap --clusters 3', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'strait-lab-overlap-')), 'lab');
  afterAll(async () => {
    await labDown(dir, { stdout: capture().stream, stderr: capture().stream });
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('comes up, and every pair of clusters reaches each other through remapped CIDRs', async () => {
    const out = capture();
    const err = capture();
    const t0 = performance.now();
    const code = await labUp(dir, { ...DEFAULT_LAB_OPTIONS, clusters: 3, overlap: true }, { stdout: out.stream, stderr: err.stream });
    console.log(`[lab --overlap --clusters 3] up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(err.text).toBe('');
    expect(code).toBe(0);
    // Six TunnelEndpoints, each naming a remap of the peer's 10.0.0.0/16.
    expect(out.text.match(/Connected\s+\S+ ms\s+\S+ \(remap of 10\.0\.0\.0\/16\)/g)?.length).toBe(6);

    // Every path, retried for up to a minute: on two loaded cores the last remap rules can land after the tunnels report Connected.
    const t1 = performance.now();
    let check = capture();
    let checkCode = await labCheck(dir, { json: true }, { stdout: check.stream, stderr: capture().stream });
    while (checkCode !== 0 && performance.now() - t1 < 60_000) {
      console.log(`[lab --overlap --clusters 3] check not passing yet: ${check.text}`);
      await new Promise((r) => setTimeout(r, 2_000));
      check = capture();
      checkCode = await labCheck(dir, { json: true }, { stdout: check.stream, stderr: capture().stream });
    }
    console.log(`[lab --overlap --clusters 3] check (${Math.round(performance.now() - t1)} ms after up): ${check.text}`);
    const r = JSON.parse(check.text) as { ok: boolean; results: Array<{ address: string; targetIp: string; ok: boolean }> };
    expect(r.results).toHaveLength(6);
    expect(r.results.every((x) => x.address !== x.targetIp)).toBe(true);
    expect(checkCode).toBe(0);
    expect(r.ok).toBe(true);
  });

  it('down leaves nothing', async () => {
    const pids = allPids(readState(labFiles(dir).state)!);
    expect(await labDown(dir, { stdout: capture().stream, stderr: capture().stream })).toBe(0);
    expect(pids.filter(pidAlive)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});
