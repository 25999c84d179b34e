import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { WORKDIR_PREFIX, createWorkdir, keepTestDirs, releaseWorkdir, sweepStaleWorkdirs } from './workdir.ts';

const base = mkdtempSync(join(tmpdir(), 'strait-workdir-test-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
afterEach(() => vi.unstubAllEnvs());

/** A pid that certainly belongs to no running process. */
function deadPid(): number {
  const r = spawnSync('/bin/sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

describe('control-plane work directories', () => {
  it('creates strait-cp-* directories owned by this process', () => {
    const dir = createWorkdir(base);
    expect(dir.startsWith(join(base, WORKDIR_PREFIX))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8'))).toMatchObject({ pid: process.pid });
  });

  it('removes a directory on release, or keeps it with STRAIT_KEEP_TEST_DIRS=1', async () => {
    const a = createWorkdir(base);
    expect(await releaseWorkdir(a)).toBe(false);
    expect(existsSync(a)).toBe(false);

    vi.stubEnv('STRAIT_KEEP_TEST_DIRS', '1');
    expect(keepTestDirs()).toBe(true);
    const b = createWorkdir(base);
    expect(await releaseWorkdir(b)).toBe(true);
    expect(existsSync(join(b, 'KEPT'))).toBe(true);
  });

  it('sweeps directories whose owner died, and only those', () => {
    const mine = createWorkdir(base);
    const stale = join(base, `${WORKDIR_PREFIX}stale`);
    mkdirSync(stale);
    writeFileSync(join(stale, 'owner.json'), JSON.stringify({ pid: deadPid() }));
    const kept = join(base, `${WORKDIR_PREFIX}kept`);
    mkdirSync(kept);
    writeFileSync(join(kept, 'owner.json'), JSON.stringify({ pid: deadPid() }));
    writeFileSync(join(kept, 'KEPT'), '');
    const foreign = join(base, `${WORKDIR_PREFIX}foreign`);
    mkdirSync(foreign);

    expect(sweepStaleWorkdirs(base)).toEqual([stale]);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(mine)).toBe(true);
    expect(existsSync(kept)).toBe(true);
    expect(existsSync(foreign)).toBe(true);
  });
});
