import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { IpNetns, defaultCommandRunner, runJson, type CommandRunner } from '@strait/net';
import { belongsToRun } from './names.ts';

/**
 * Removing a topology run: the topology owns its namespaces wholesale, so everything is found by
 * the run prefix rather than by a record of what was created — which is what makes clean-up work
 * after a build that failed half-way, or after a crash of a previous process.
 *
 * Per namespace: every process still inside it (helpers, Strait services the lab started there,
 * wireguard-go, charon) is killed, then the namespace is deleted; the kernel removes its links with
 * it (a veth goes with either end). Finally any link with the run prefix left in the caller's own
 * namespace is deleted (none is ever created there: veths are created inside a namespace).
 */

export interface CleanupReport {
  readonly namespaces: readonly string[];
  readonly rootLinks: readonly string[];
  readonly processesKilled: number;
}

const NETNS_DIR = '/run/netns';

function killPids(text: string): number {
  let n = 0;
  for (const t of text.split(/\s+/)) {
    const pid = Number(t);
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
      n++;
    } catch {
      // already gone
    }
  }
  return n;
}

/** Root-namespace links of the run, from `ip -j link show` output. */
export function runLinksIn(json: unknown, runId: string): string[] {
  if (!Array.isArray(json)) return [];
  return json
    .map((l: unknown) => (typeof l === 'object' && l !== null ? (l as { ifname?: unknown }).ifname : undefined))
    .filter((n): n is string => typeof n === 'string' && belongsToRun(runId, n));
}

/**
 * Deletes every namespace and root-namespace link of the run. Keeps going past individual failures
 * and throws at the end (naming what is left) only if something could not be removed.
 */
export async function destroyRun(runId: string, runner: CommandRunner = defaultCommandRunner()): Promise<CleanupReport> {
  const netns = new IpNetns(runner);
  const errors: string[] = [];
  let killed = 0;
  const mine = (await netns.list()).filter((n) => belongsToRun(runId, n));
  // Processes first (a namespace with a process inside outlives its name), then the namespaces.
  for (const ns of mine) {
    try {
      killed += killPids((await runner.run('ip', ['netns', 'pids', ns])).stdout);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  for (const ns of mine) {
    try {
      await netns.delete(ns);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  const rootLinks = runLinksIn(await runJson(runner, 'ip', ['-j', 'link', 'show']), runId);
  for (const l of rootLinks) {
    try {
      await runner.run('ip', ['link', 'del', 'dev', l]);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  const leftNs = (await netns.list()).filter((n) => belongsToRun(runId, n));
  const leftLinks = runLinksIn(await runJson(runner, 'ip', ['-j', 'link', 'show']), runId);
  if (leftNs.length > 0 || leftLinks.length > 0) {
    throw new Error(
      `topology ${runId}: clean-up left ${[...leftNs.map((n) => `netns ${n}`), ...leftLinks.map((l) => `link ${l}`)].join(', ')}` +
        (errors.length > 0 ? ` (${errors.slice(0, 5).join('; ')})` : ''),
    );
  }
  return { namespaces: mine, rootLinks, processesKilled: killed };
}

const SYNC_ENV = { ...process.env, LC_ALL: 'C', PATH: `${process.env['PATH'] ?? '/usr/bin:/bin'}:/usr/sbin:/sbin` };

/**
 * The same, synchronously and best effort: for the process-exit safety net (an `exit` handler
 * cannot wait for promises).
 */
export function destroyRunSync(runId: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(NETNS_DIR).filter((n) => belongsToRun(runId, n));
  } catch {
    names = [];
  }
  for (const ns of names) {
    const pids = spawnSync('ip', ['netns', 'pids', ns], { env: SYNC_ENV, encoding: 'utf8' });
    killPids(pids.stdout ?? '');
  }
  for (const ns of names) spawnSync('ip', ['netns', 'delete', ns], { env: SYNC_ENV, stdio: 'ignore' });
  const links = spawnSync('ip', ['-j', 'link', 'show'], { env: SYNC_ENV, encoding: 'utf8' });
  try {
    for (const l of runLinksIn(JSON.parse(links.stdout || '[]'), runId)) {
      spawnSync('ip', ['link', 'del', 'dev', l], { env: SYNC_ENV, stdio: 'ignore' });
    }
  } catch {
    // best effort on the way out
  }
}
