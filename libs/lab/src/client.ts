import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { locateBinaries, BUILD_HINT, destroyRun } from '@strait/testing';
import { labFiles, nodeBinary } from './paths.ts';
import { allPids, pidAlive, readState, type LabState } from './state.ts';
import { renderStatus, table, type ServiceHealth, type LabStatusReport } from './table.ts';
import { planProbes, runProbe, type ProbeResult } from './check.ts';
import { viewCluster, viewMembers, GATEWAY_LEASE } from './cluster-view.ts';
import { labOptionProblems, type LabDriver, type LabOptions } from './plan.ts';
import { findCharonBinary } from '@strait/net';
import { execFileSync } from 'node:child_process';

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

/** Commands the lab runs, with the Debian package that brings each. */
export const LAB_COMMANDS: ReadonlyArray<{ command: string; pkg: string }> = [
  { command: 'ip', pkg: 'iproute2' },
  { command: 'nft', pkg: 'nftables' },
  { command: 'ping', pkg: 'iputils-ping' },
  { command: 'wireguard-go', pkg: 'wireguard-go' },
];

/** The commands of {@link LAB_COMMANDS} that are not on PATH. */
export function missingCommands(path = process.env['PATH'] ?? ''): Array<{ command: string; pkg: string }> {
  const dirs = path.split(':').filter(Boolean);
  return LAB_COMMANDS.filter((c) => !dirs.some((d) => existsSync(join(d, c.command))));
}

/** What a cable driver needs beyond {@link LAB_COMMANDS}, as messages with the fix: IPsec runs strongSwan's charon on every gateway. */
export function missingDriverTools(driver: LabDriver, findCharon: () => string | undefined = findCharonBinary): string[] {
  if ((driver === 'ipsec' || driver === 'mixed') && !findCharon()) {
    return [`--driver=${driver} needs strongSwan's charon: install with \`apt-get install -y ${IPSEC_PACKAGES}\` (or run \`npm run setup\`)`];
  }
  return [];
}

const IPSEC_PACKAGES = 'strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins';

function checkPrerequisites(driver: LabDriver): void {
  if (process.getuid?.() !== 0) {
    throw new LabError('the lab needs root (it creates network namespaces and runs control planes): run it as root, e.g. sudo npm run lab');
  }
  const missing = missingCommands(`${process.env['PATH'] ?? ''}:/usr/sbin:/sbin:/usr/bin:/bin`);
  if (missing.length > 0) {
    throw new LabError(
      `missing ${missing.map((m) => m.command).join(', ')}: install with \`apt-get install -y ${[...new Set(missing.map((m) => m.pkg))].join(' ')}\` (or run \`npm run setup\`)`,
    );
  }
  const tools = missingDriverTools(driver);
  if (tools.length > 0) throw new LabError(tools.join('; '));
  try {
    locateBinaries();
  } catch (err) {
    throw new LabError(`${(err as Error).message.split('\n')[0]}${(err as Error).message.includes(BUILD_HINT) ? '' : ` (${BUILD_HINT})`}`);
  }
}

/** Brings a lab up (or reports the running one) and prints its status. */
export async function labUp(dir: string, opts: LabOptions & { timeoutMs?: number }, io: LabIO): Promise<number> {
  const files = labFiles(dir);
  const problems = labOptionProblems(opts);
  if (problems.length > 0) throw new LabError(problems.join('; '));
  const existing = readState(files.state);
  if (existing && pidAlive(existing.daemonPid)) {
    io.stdout.write(`A lab is already running (started ${existing.startedAt}, ${existing.options.clusters} clusters, phase ${existing.phase}); leaving it as it is.\n`);
    io.stdout.write('Use `straitctl lab down` first to start a new one.\n\n');
    io.stdout.write(renderStatus(await collectStatus(existing)));
    return 0;
  }
  if (existing) {
    io.stdout.write(`Removing the remains of a lab that is no longer running (${dir}).\n`);
    rmSync(dir, { recursive: true, force: true });
  }
  checkPrerequisites(opts.driver);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out = openSync(files.daemonLog, 'a');
  const { timeoutMs: _t, ...options } = opts;
  const child = spawn(nodeBinary(), [join(import.meta.dirname, 'daemon-main.ts'), '--dir', dir, '--options', JSON.stringify(options)], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  child.unref();
  io.stdout.write(`Bringing the lab up in ${dir} (owner process ${child.pid})\n`);

  const deadline = Date.now() + (opts.timeoutMs ?? 900_000);
  let shown = 0;
  for (;;) {
    shown = printNewProgress(files.progress, shown, io);
    const state = readState(files.state);
    if (state?.phase === 'ready') {
      io.stdout.write('\n');
      io.stdout.write(renderStatus(await collectStatus(state)));
      io.stdout.write(`\nLogs: ${files.logs} (one per process)  ·  kubeconfigs: the KUBECONFIG column  ·  metrics: the METRICS column\n`);
      io.stdout.write('Next: straitctl lab check | status | failover --cluster=cluster-1 | logs SERVICE | down\n');
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
      io.stderr.write(`\nThe lab was not ready after ${Math.round((opts.timeoutMs ?? 900_000) / 1000)} s; it keeps trying. See ${files.progress}\n`);
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
  const views = state.phase === 'ready' || state.phase === 'starting' ? await viewMembers(state) : [];
  return { state, daemonRunning: pidAlive(state.daemonPid), services, views };
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
    io.stdout.write(`${JSON.stringify({ running: report.daemonRunning, phase: state.phase, dir, state, services: report.services, clusters: report.views })}\n`);
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
  const namespacesBefore = state.netnsPrefix ? labNetns(state.netnsPrefix) : [];
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
  const nsLeft = state.netnsPrefix ? labNetns(state.netnsPrefix) : [];
  io.stdout.write(
    `Lab stopped: ${pids.length} processes ended${leftovers.length ? ` (${leftovers.length} killed)` : ''}, ${namespacesBefore.length} network namespaces (${state.netnsPrefix ?? '-'}-*) with their links removed, ${state.controlPlaneDir ? `${state.controlPlaneDir} and ` : ''}${dir} removed${still.length ? `; STILL RUNNING: ${still.join(', ')}` : ''}${nsLeft.length ? `; NAMESPACES LEFT: ${nsLeft.join(', ')}` : ''}.\n`,
  );
  return still.length || nsLeft.length ? 1 : 0;
}

/** The network namespaces whose names start with the lab's prefix. */
export function labNetns(prefix: string): string[] {
  try {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((n) => n.startsWith(`${prefix}-`));
  } catch {
    return [];
  }
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
  // One log per process: `<service>.log` (once per cluster) or `<service>-<node>.log` (per node).
  const found = clusters.flatMap((c) =>
    readdirSync(join(files.logs, c))
      .filter((f) => f === `${service}.log` || (f.startsWith(`${service}-${c}-`) && f.endsWith('.log')))
      .sort()
      .map((f) => join(files.logs, c, f)),
  );
  if (found.length === 0) {
    const known = [...new Set(clusters.flatMap((c) => readdirSync(join(files.logs, c)).map((f) => f.replace(/\.log$/, '').replace(new RegExp(`-${c}-.*$`), ''))))];
    io.stderr.write(`No log for "${service}"${opts.cluster ? ` in ${opts.cluster}` : ''}. Services: ${known.join(', ') || 'none'}\n`);
    return 1;
  }
  for (const f of found) {
    const lines = readFileSync(f, 'utf8').split('\n');
    io.stdout.write(`==> ${f} <==\n${lines.slice(-opts.lines - 1).join('\n')}\n`);
  }
  return 0;
}

function runningLab(dir: string): LabState {
  const state = readState(labFiles(dir).state);
  if (!state || !pidAlive(state.daemonPid)) throw new LabError(`no lab is running (nothing in ${dir}); start one with: npm run lab`);
  if (state.phase !== 'ready') throw new LabError(`the lab is ${state.phase}, not ready; see straitctl lab status`);
  return state;
}

/** Pod-to-pod across every ordered pair of member clusters; exit 1 on any failure. */
export async function labCheck(dir: string, opts: { json: boolean }, io: LabIO): Promise<number> {
  const state = runningLab(dir);
  const views = await viewMembers(state);
  const results: ProbeResult[] = await Promise.all(planProbes(state, views).map((p) => runProbe(p)));
  const ok = results.length > 0 && results.every((r) => r.ok);
  if (opts.json) {
    io.stdout.write(
      `${JSON.stringify({ ok, results: results.map((r) => ({ from: r.from, to: r.to, source: r.source.name, sourceIp: r.source.ip, target: r.target.name, targetIp: r.target.ip, address: r.address ?? null, ok: r.ok, rttMs: r.rttMs ?? null, sent: r.sent, lost: r.lost, detail: r.detail })) })}\n`,
    );
  } else {
    io.stdout.write(
      table(
        ['FROM', 'TO', 'SOURCE POD', 'TARGET POD', 'ADDRESS', 'RESULT', 'RTT'],
        results.map((r) => [r.from, r.to, `${r.source.name} (${r.source.ip})`, `${r.target.name} (${r.target.ip})`, r.address ?? '-', r.ok ? `ok ${r.detail}` : `FAIL ${r.detail}`, r.rttMs === undefined ? '-' : `${r.rttMs.toFixed(2)} ms`]),
      ),
    );
    io.stdout.write(ok ? `\nAll ${results.length} pod-to-pod paths work.\n` : `\n${results.filter((r) => !r.ok).length} of ${results.length} pod-to-pod paths FAILED.\n`);
  }
  return ok ? 0 : 1;
}

export interface FailoverResult {
  cluster: string;
  crash: boolean;
  from: string;
  to: string;
  /** Signal → the Lease names a new holder. */
  newActiveMs: number;
  /** Signal → every peer's TunnelEndpoint to this cluster points at the new gateway and is Connected, and this cluster's tunnels are Connected. */
  tunnelsMs: number;
}

/**
 * Fails over cluster C's active gateway: SIGTERM its tunnel-operator (graceful: it releases the Lease),
 * or with `crash` the node's WAN link down and SIGKILL (the Lease must expire). Waits for the new active
 * gateway and for the tunnels through it; prints how long each took. The lab starts the stopped
 * operator again (it comes back as a standby) and a crashed node's WAN link is set up again.
 */
export async function labFailover(dir: string, opts: { cluster: string; crash: boolean; json?: boolean; timeoutMs?: number }, io: LabIO): Promise<number> {
  const state = runningLab(dir);
  if (!state.clusters.some((c) => c.name === opts.cluster && c.role === 'member')) {
    throw new LabError(`no member cluster ${opts.cluster} (clusters: ${state.clusters.filter((c) => c.role === 'member').map((c) => c.name).join(', ')})`);
  }
  const before = await viewCluster(state, opts.cluster);
  const node = state.nodes.find((n) => n.gatewayPod === before.holder);
  if (!node) throw new LabError(`${opts.cluster} has no active gateway (Lease ${GATEWAY_LEASE} holder: ${before.holder || 'none'})`);
  const svc = state.clusters.find((c) => c.name === opts.cluster)!.services.find((s) => s.name === 'tunnel-operator' && s.node === node.name);
  if (!svc?.pid || !pidAlive(svc.pid)) throw new LabError(`the tunnel-operator on ${node.name} is not running`);
  if (state.nodes.filter((n) => n.cluster === opts.cluster && n.role === 'gateway').length < 2) {
    throw new LabError(`${opts.cluster} has one gateway node: there is nothing to fail over to (lab up --gateways=2)`);
  }
  const peers = state.clusters.filter((c) => c.role === 'member' && c.name !== opts.cluster).map((c) => c.name);
  if (!opts.json) io.stdout.write(`${opts.cluster}: active gateway ${node.name} (tunnel-operator pid ${svc.pid}); ${opts.crash ? 'WAN link down + SIGKILL' : 'SIGTERM'}\n`);
  const t0 = performance.now();
  if (opts.crash) execFileSync('ip', ['-n', node.netns, 'link', 'set', node.wan!.ifname, 'down']);
  process.kill(svc.pid, opts.crash ? 'SIGKILL' : 'SIGTERM');
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  let newActiveMs: number | undefined;
  let to = '';
  try {
    for (;;) {
      const now = await viewCluster(state, opts.cluster);
      if (newActiveMs === undefined && now.holder && now.holder !== before.holder) {
        newActiveMs = performance.now() - t0;
        to = state.nodes.find((n) => n.gatewayPod === now.holder)?.name ?? now.holder;
        if (!opts.json) io.stdout.write(`  new active gateway ${to} after ${Math.round(newActiveMs)} ms\n`);
      }
      if (newActiveMs !== undefined) {
        const wan = state.nodes.find((n) => n.name === to)?.wan?.ip;
        const peerViews = await Promise.all(peers.map((p) => viewCluster(state, p)));
        const peersOk = peerViews.every((v) => v.tunnels.some((t) => t.peer === opts.cluster && t.endpoint.startsWith(`${wan}:`) && t.phase === 'Connected'));
        const selfOk = now.tunnels.length === peers.length && now.tunnels.every((t) => t.phase === 'Connected');
        if (peersOk && selfOk) break;
      }
      if (Date.now() > deadline) throw new LabError(`failover of ${opts.cluster} not complete after ${(opts.timeoutMs ?? 120_000) / 1000} s (new active: ${to || 'none'}); see straitctl lab status and the tunnel-operator logs`);
      await sleep(50);
    }
  } finally {
    if (opts.crash) execFileSync('ip', ['-n', node.netns, 'link', 'set', node.wan!.ifname, 'up']);
  }
  const result: FailoverResult = { cluster: opts.cluster, crash: opts.crash, from: node.name, to, newActiveMs: Math.round(newActiveMs!), tunnelsMs: Math.round(performance.now() - t0) };
  if (opts.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  else io.stdout.write(`  tunnels Connected through ${to} (peers re-pointed by broker-sync) after ${result.tunnelsMs} ms; the lab restarts the old operator as a standby\n`);
  return 0;
}
