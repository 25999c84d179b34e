import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { locateBinaries, BUILD_HINT, destroyRun } from '@strait/testing';
import { labFiles, nodeBinary } from './paths.ts';
import { allPids, pidAlive, readState, type LabState } from './state.ts';
import { renderStatus, type ServiceHealth, type LabStatusReport } from './table.ts';

export interface LabIO {
  stdout: Writable;
  stderr: Writable;
}

/** A problem the user can fix; the message says how. Exit code 1. */
export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function checkPrerequisites(): void {
  if (process.getuid?.() !== 0) {
    throw new LabError('the lab needs root (it creates network namespaces and runs control planes): run it as root, e.g. sudo npm run lab');
  }
  try {
    locateBinaries();
  } catch (err) {
    throw new LabError(`${(err as Error).message.split('\n')[0]}${(err as Error).message.includes(BUILD_HINT) ? '' : ` (${BUILD_HINT})`}`);
  }
}

/** Brings a lab up (or reports the running one) and prints its status. */
export async function labUp(dir: string, opts: { clusters: number; timeoutMs?: number }, io: LabIO): Promise<number> {
  const files = labFiles(dir);
  const existing = readState(files.state);
  if (existing && pidAlive(existing.daemonPid)) {
    io.stdout.write(`A lab is already running (started ${existing.startedAt}, ${existing.options.clusters} clusters); leaving it as it is.\n`);
    io.stdout.write('Use `straitctl lab down` first to start a new one.\n\n');
    io.stdout.write(renderStatus(await collectStatus(existing)));
    return 0;
  }
  if (existing) {
    io.stdout.write(`Removing the remains of a lab that is no longer running (${dir}).\n`);
    rmSync(dir, { recursive: true, force: true });
  }
  checkPrerequisites();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out = openSync(files.daemonLog, 'a');
  const child = spawn(nodeBinary(), [join(import.meta.dirname, 'daemon-main.ts'), '--dir', dir, '--clusters', String(opts.clusters)], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  child.unref();
  io.stdout.write(`Bringing the lab up in ${dir} (owner process ${child.pid})\n`);

  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  let shown = 0;
  for (;;) {
    shown = printNewProgress(files.progress, shown, io);
    const state = readState(files.state);
    if (state?.phase === 'ready') {
      io.stdout.write('\n');
      io.stdout.write(renderStatus(await collectStatus(state)));
      io.stdout.write(`\nLogs: ${files.logs}  ·  straitctl lab status | logs SERVICE | down\n`);
      return 0;
    }
    const alive = pidAlive(child.pid);
    if (state?.phase === 'failed' || !alive) {
      await sleep(200);
      printNewProgress(files.progress, shown, io);
      const why = state?.error ?? `the lab's owner process exited; see ${files.daemonLog}`;
      io.stderr.write(`\nThe lab did not come up: ${why}\nLogs are kept in ${dir}; \`straitctl lab down\` removes them.\n`);
      return 1;
    }
    if (Date.now() > deadline) {
      io.stderr.write(`\nThe lab was not ready after ${Math.round((opts.timeoutMs ?? 300_000) / 1000)} s; it keeps trying. See ${files.progress}\n`);
      return 1;
    }
    await sleep(200);
  }
}

function printNewProgress(file: string, shown: number, io: LabIO): number {
  if (!existsSync(file)) return shown;
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  for (const l of lines.slice(shown)) io.stdout.write(`  ${l}\n`);
  return lines.length;
}

export async function collectStatus(state: LabState): Promise<LabStatusReport> {
  const services: ServiceHealth[] = await Promise.all(
    state.clusters.flatMap((c) =>
      c.services.map(async (s) => {
        let ready = false;
        try {
          ready = (await fetch(`${s.probe}/readyz`, { signal: AbortSignal.timeout(2000) })).ok;
        } catch {
          ready = false;
        }
        return { ...s, running: pidAlive(s.pid), ready };
      }),
    ),
  );
  return { state, daemonRunning: pidAlive(state.daemonPid), services };
}

export async function labStatus(dir: string, opts: { json: boolean }, io: LabIO): Promise<number> {
  const state = readState(labFiles(dir).state);
  if (!state) {
    if (opts.json) io.stdout.write(`${JSON.stringify({ running: false, dir })}\n`);
    else io.stdout.write(`No lab is running (nothing in ${dir}). Start one with: npm run lab\n`);
    return opts.json ? 0 : 3;
  }
  const report = await collectStatus(state);
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({ running: report.daemonRunning, phase: state.phase, dir, state, services: report.services })}\n`);
  } else {
    io.stdout.write(renderStatus(report));
  }
  const healthy = report.daemonRunning && state.phase === 'ready' && report.services.every((s) => s.ready);
  return healthy ? 0 : 1;
}

export async function labDown(dir: string, io: LabIO, timeoutMs = 120_000): Promise<number> {
  const files = labFiles(dir);
  const state = readState(files.state);
  if (!state) {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    io.stdout.write(`No lab is running (nothing in ${dir}).\n`);
    return 0;
  }
  const pids = allPids(state);
  if (pidAlive(state.daemonPid)) {
    io.stdout.write(`Stopping the lab (owner process ${state.daemonPid})\n`);
    process.kill(state.daemonPid, 'SIGTERM');
    let shown = countLines(files.progress);
    const deadline = Date.now() + timeoutMs;
    while (pidAlive(state.daemonPid) && Date.now() < deadline) {
      shown = printNewProgress(files.progress, shown, io);
      await sleep(200);
    }
    if (pidAlive(state.daemonPid)) process.kill(state.daemonPid, 'SIGKILL');
  }
  // Anything still alive (an owner process killed with -9) goes now.
  const leftovers = pids.filter(pidAlive);
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  // Network namespaces of an owner process that could not clean up (killed with -9).
  const namespaces = state.netnsPrefix ? (await destroyRun(state.netnsPrefix)).namespaces.length : 0;
  if (namespaces > 0) io.stdout.write(`Removed ${namespaces} network namespaces left behind.\n`);
  if (state.controlPlaneDir && existsSync(state.controlPlaneDir)) rmSync(state.controlPlaneDir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  await sleep(100);
  const still = pids.filter(pidAlive);
  io.stdout.write(
    `Lab stopped: ${pids.length} processes ended${leftovers.length ? ` (${leftovers.length} killed)` : ''}, ${dir} removed${still.length ? `; STILL RUNNING: ${still.join(', ')}` : ''}.\n`,
  );
  return still.length ? 1 : 0;
}

function countLines(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
}

/** Prints the log of one service (all clusters, or one with `cluster`), or lists what exists. */
export function labLogs(dir: string, service: string, opts: { cluster?: string; lines: number }, io: LabIO): number {
  const files = labFiles(dir);
  if (!existsSync(files.logs)) {
    io.stderr.write(`No lab logs in ${dir}.\n`);
    return 1;
  }
  const clusters = readdirSync(files.logs).filter((c) => statSync(join(files.logs, c)).isDirectory() && (!opts.cluster || c === opts.cluster));
  const found = clusters.map((c) => join(files.logs, c, `${service}.log`)).filter(existsSync);
  if (found.length === 0) {
    const known = [...new Set(clusters.flatMap((c) => readdirSync(join(files.logs, c)).map((f) => f.replace(/\.log$/, ''))))];
    io.stderr.write(`No log for "${service}"${opts.cluster ? ` in ${opts.cluster}` : ''}. Services: ${known.join(', ') || 'none'}\n`);
    return 1;
  }
  for (const f of found) {
    const lines = readFileSync(f, 'utf8').split('\n');
    io.stdout.write(`==> ${f} <==\n${lines.slice(-opts.lines - 1).join('\n')}\n`);
  }
  return 0;
}
