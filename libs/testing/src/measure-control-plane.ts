// Prints how long control planes take to start and stop and how much memory their processes use.
// Not part of the library API. Run: npx node libs/testing/src/measure-control-plane.ts [--idle 20]
import { readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startControlPlane } from './control-plane.ts';
import type { ControlPlaneOptions } from './types.ts';

interface ProcFigures {
  name: string;
  rssKiB: number;
  peakKiB: number;
  pssKiB: number;
  cpuSeconds: number;
}

const CLK_TCK = 100;

function procFigures(pid: number): ProcFigures {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (re: RegExp, text: string) => Number(re.exec(text)?.[1] ?? 0);
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    name: basename(readlinkSync(`/proc/${pid}/exe`)),
    rssKiB: field(/VmRSS:\s+(\d+)/, status),
    peakKiB: field(/VmHWM:\s+(\d+)/, status),
    pssKiB: field(/^Pss:\s+(\d+)/m, rollup),
    cpuSeconds: (Number(rest[11]) + Number(rest[12])) / CLK_TCK,
  };
}

const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

function report(title: string, pids: number[]): void {
  const rows = pids.map(procFigures);
  console.log(`  ${title}`);
  for (const r of rows) {
    console.log(
      `    ${r.name.padEnd(24)} RSS ${mib(r.rssKiB).padStart(8)}  peak ${mib(r.peakKiB).padStart(8)}  PSS ${mib(r.pssKiB).padStart(8)}  CPU ${r.cpuSeconds.toFixed(2)} s`,
    );
  }
  const sum = (k: 'rssKiB' | 'pssKiB') => rows.reduce((a, r) => a + r[k], 0);
  console.log(`    ${'total'.padEnd(24)} RSS ${mib(sum('rssKiB')).padStart(8)}                 PSS ${mib(sum('pssKiB')).padStart(8)}`);
}

async function scenario(label: string, opts: ControlPlaneOptions, idleSeconds: number): Promise<void> {
  console.log(`\n== ${label}`);
  const t0 = performance.now();
  const cp = await startControlPlane({
    ...opts,
    onProgress: (m) => console.log(`  [${((performance.now() - t0) / 1000).toFixed(2)} s] ${m}`),
  });
  report('at ready', cp.pids());
  if (idleSeconds > 0) {
    await sleep(idleSeconds * 1000);
    report(`after ${idleSeconds} s idle`, cp.pids());
  }
  const ts = performance.now();
  await cp.stop();
  console.log(`  stop: ${Math.round(performance.now() - ts)} ms`);
}

const { values } = parseArgs({ options: { idle: { type: 'string', default: '20' } } });
const idle = Number(values.idle);
console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} CPUs`);
await scenario('1 cluster, no kube-controller-manager, no NATS', { clusters: 1, nats: false }, 0);
await scenario('shared tier: 1 cluster with kube-controller-manager + NATS', { clusters: [{ controllerManager: true }], nats: true }, idle);
await scenario(
  '3 clusters, each with kube-controller-manager, + NATS',
  { clusters: [{ controllerManager: true }, { controllerManager: true }, { controllerManager: true }], nats: true },
  idle,
);
