import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const WORKDIR_PREFIX = 'strait-cp-';
const OWNER_FILE = 'owner.json';
const KEEP_FILE = 'KEPT';

/** STRAIT_KEEP_TEST_DIRS=1 keeps control-plane directories (logs, certs, data) after stop(). */
export function keepTestDirs(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env['STRAIT_KEEP_TEST_DIRS'];
  return v === '1' || v === 'true';
}

/** Creates <tmpdir>/strait-cp-XXXXXX owned by this process (its pid is recorded for the stale sweep). */
export function createWorkdir(base = tmpdir()): string {
  const dir = mkdtempSync(join(base, WORKDIR_PREFIX));
  writeFileSync(join(dir, OWNER_FILE), JSON.stringify({ pid: process.pid, created: new Date().toISOString() }) + '\n');
  return dir;
}

/** Removes the directory, or marks it as kept when STRAIT_KEEP_TEST_DIRS=1. Returns whether it was kept. */
export async function releaseWorkdir(dir: string): Promise<boolean> {
  if (keepTestDirs()) {
    writeFileSync(join(dir, KEEP_FILE), 'kept because STRAIT_KEEP_TEST_DIRS=1\n');
    return true;
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  return false;
}

/** Synchronous variant for the exit path. */
export function releaseWorkdirSync(dir: string): void {
  if (!existsSync(dir)) return;
  if (keepTestDirs()) {
    writeFileSync(join(dir, KEEP_FILE), 'kept because STRAIT_KEEP_TEST_DIRS=1\n');
    return;
  }
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes directories left by control planes whose owning process died without cleaning up (e.g. it
 * was SIGKILLed; its children died with it through the parent-death signal). Directories that are
 * kept on purpose, or whose owner is alive, are left alone. Returns the removed paths.
 */
export function sweepStaleWorkdirs(base = tmpdir()): string[] {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(base).filter((e) => e.startsWith(WORKDIR_PREFIX));
  } catch {
    return removed;
  }
  for (const e of entries) {
    const dir = join(base, e);
    try {
      if (existsSync(join(dir, KEEP_FILE))) continue;
      const owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as { pid?: unknown };
      if (typeof owner.pid !== 'number' || pidAlive(owner.pid)) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // not ours, being created, or already gone
    }
  }
  return removed;
}
