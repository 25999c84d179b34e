import { availableParallelism, cpus, loadavg, release, totalmem, type } from 'node:os';

/**
 * What a benchmark reports: named figures (value, unit, optional goal), where and when they were
 * taken, and the command that took them. Rendered as one JSON line and as a section of
 * docs/benchmarks.md (see doc-section.ts).
 */

export interface Goal {
  op: '<=' | '>=';
  value: number;
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  goal?: Goal;
}

export interface Machine {
  cores: number;
  cpu: string;
  kernel: string;
  memoryGiB: number;
  /** 1-minute load average when the benchmark started (other work on the machine shows here). */
  load1: number;
}

export interface BenchReport {
  bench: string;
  /** One sentence: what is measured. */
  title: string;
  date: Date;
  machine: Machine;
  command: string;
  figures: Figure[];
  /** Extra lines under the table (how, caveats). */
  notes?: string[];
  /** The benchmark script's own result line, kept whole in the JSON. */
  detail?: unknown;
}

export interface MachineSource {
  cores(): number;
  cpuModel(): string;
  kernel(): string;
  memoryBytes(): number;
  load1(): number;
}

const osSource: MachineSource = {
  cores: () => availableParallelism(),
  cpuModel: () => cpus()[0]?.model.trim() ?? 'unknown CPU',
  kernel: () => `${type()} ${release()}`,
  memoryBytes: () => totalmem(),
  load1: () => loadavg()[0] ?? 0,
};

export function describeMachine(src: MachineSource = osSource): Machine {
  return { cores: src.cores(), cpu: src.cpuModel().replace(/\s+/g, ' ').trim(), kernel: src.kernel(), memoryGiB: Math.round((src.memoryBytes() / 2 ** 30) * 10) / 10, load1: Math.round(src.load1() * 100) / 100 };
}

export function machineText(m: Machine): string {
  return `${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, ${m.kernel}; load average ${m.load1} at the start`;
}

export function goalMet(f: Figure): boolean | undefined {
  if (!f.goal) return undefined;
  return f.goal.op === '<=' ? f.value <= f.goal.value : f.value >= f.goal.value;
}

/** Figures with a goal that they miss. */
export function missedGoals(r: BenchReport): Figure[] {
  return r.figures.filter((f) => goalMet(f) === false);
}

export function valueText(value: number, unit: string): string {
  const v = Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
  if (unit === '') return v;
  if (unit === 'x') return `${v}×`;
  return `${v} ${unit}`;
}

export function goalText(g: Goal, unit: string): string {
  return `${g.op === '<=' ? '≤' : '≥'} ${valueText(g.value, unit)}`;
}

/** The one JSON line of a benchmark. */
export function reportJson(r: BenchReport): string {
  const missed = missedGoals(r);
  return JSON.stringify({
    bench: r.bench,
    date: r.date.toISOString(),
    machine: r.machine,
    command: r.command,
    goalsMet: missed.length === 0,
    figures: r.figures.map((f) => ({ name: f.name, value: f.value, unit: f.unit, ...(f.goal ? { goal: f.goal, met: goalMet(f) } : {}) })),
    ...(r.detail !== undefined ? { detail: r.detail } : {}),
  });
}

/** A short readable summary (without the JSON line). */
export function reportText(r: BenchReport): string {
  const width = Math.max(...r.figures.map((f) => f.name.length));
  const lines = [`${r.bench}: ${r.title}`, `  on ${machineText(r.machine)}`];
  for (const f of r.figures) {
    const met = goalMet(f);
    lines.push(`  ${f.name.padEnd(width)}  ${valueText(f.value, f.unit)}${f.goal ? `  (goal ${goalText(f.goal, f.unit)}: ${met ? 'met' : 'MISSED'})` : ''}`);
  }
  for (const n of r.notes ?? []) lines.push(`  ${n}`);
  return `${lines.join('\n')}\n`;
}
