import { spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { BenchDefinition } from './benchmarks.ts';
import { renderSection, upsertSection } from './doc-section.ts';
import { describeMachine, reportJson, reportText, type BenchReport, type Machine } from './report.ts';
import { parseResultLine, ResultLineError } from './result-line.ts';

/** The repository root (this file is apps/straitctl/src/bench/run.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const DEFAULT_DOC = join(REPO_ROOT, 'docs', 'benchmarks.md');

export interface ScriptRun {
  code: number | null;
  signal: string | null;
  stdout: string;
}

export interface BenchDeps {
  /** Runs `node <script> ...args` in the repository root; output chunks go to the callbacks as they come. */
  runScript(script: string, args: readonly string[], on: { stderr(chunk: string): void; stdout(chunk: string): void }): Promise<ScriptRun>;
  readDoc(path: string): string | undefined;
  writeDoc(path: string, text: string): void;
  now(): Date;
  machine(): Machine;
  isRoot(): boolean;
}

export interface BenchRunOptions {
  trials: number | undefined;
  json: boolean;
  doc: string;
}

export interface BenchIO {
  stdout: Writable;
  stderr: Writable;
}

export class BenchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchError';
  }
}

export const nodeDeps: BenchDeps = {
  runScript(script, args, on) {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [join(REPO_ROOT, script), ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        stdout += c;
        on.stdout(c);
      });
      child.stderr.setEncoding('utf8').on('data', (c: string) => on.stderr(c));
      // Ctrl-C reaches the child through the process group; a plain SIGTERM to straitctl is passed on
      // so that the script can remove its namespaces and processes.
      const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
      const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => [sig, forward(sig)] as const);
      for (const [sig, h] of handlers) process.on(sig, h);
      child.on('error', (err) => reject(new BenchError(`cannot start ${script}: ${err.message}`)));
      child.on('close', (code, signal) => {
        for (const [sig, h] of handlers) process.off(sig, h);
        resolve({ code, signal, stdout });
      });
    });
  },
  readDoc: (path) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined),
  writeDoc(path, text) {
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  },
  now: () => new Date(),
  machine: () => describeMachine(),
  isRoot: () => process.getuid?.() === 0,
};

/** The command as a reader would type it again. */
export function benchCommand(def: BenchDefinition, trials: number | undefined): string {
  return `npx straitctl bench ${def.name}${def.defaultTrials !== undefined ? ` --trials ${trials ?? def.defaultTrials}` : ''}`;
}

/**
 * Runs one benchmark script, turns its result line into a report, prints the summary (unless --json)
 * and the one JSON line, and replaces the benchmark's section of the docs file. Returns the exit code.
 */
export async function runBench(def: BenchDefinition, o: BenchRunOptions, io: BenchIO, deps: BenchDeps = nodeDeps): Promise<number> {
  if (!deps.isRoot()) {
    throw new BenchError(`${def.name} needs root (it builds network namespaces and runs real control planes): run it as root, e.g. sudo npx straitctl bench ${def.name}`);
  }
  if (o.trials !== undefined && def.defaultTrials === undefined) throw new BenchError(`${def.name} takes no --trials`);
  const started = deps.now();
  const machine = deps.machine();
  io.stderr.write(`straitctl bench ${def.name}: running ${def.script} (progress below; this takes minutes)\n`);
  // The script's own stdout (tables, per-run lines) goes to stderr as it comes, all but its last line
  // (the result): straitctl's stdout carries the summary and the one JSON line only.
  const held = new HeldLastLine((line) => io.stderr.write(`${line}\n`));
  const r = await deps.runScript(def.script, def.args(o.trials), { stderr: (chunk) => io.stderr.write(chunk), stdout: (chunk) => held.push(chunk) });
  if (r.code !== 0) {
    const how = r.signal ? `was killed by ${r.signal}` : `exited with code ${String(r.code)}`;
    throw new BenchError(`${def.script} ${how} (its messages are above)`);
  }
  let result: Record<string, unknown>;
  try {
    result = parseResultLine(r.stdout, def.script);
  } catch (err) {
    if (err instanceof ResultLineError) throw new BenchError(err.message);
    throw err;
  }
  let summary: { figures: BenchReport['figures']; notes: string[] };
  try {
    summary = def.summarise(result);
  } catch (err) {
    if (err instanceof ResultLineError) throw new BenchError(`unexpected result: ${err.message}`);
    if (err instanceof RangeError) throw new BenchError(`unexpected result: ${def.script}: ${err.message}`);
    throw err;
  }
  const report: BenchReport = {
    bench: def.name,
    title: def.title,
    date: started,
    machine,
    command: benchCommand(def, o.trials),
    figures: summary.figures,
    notes: summary.notes,
    detail: result,
  };
  deps.writeDoc(o.doc, upsertSection(deps.readDoc(o.doc), def.name, renderSection(report)));
  if (!o.json) io.stdout.write(`${reportText(report)}  (section "${def.name}" of ${o.doc} updated)\n`);
  io.stdout.write(`${reportJson(report)}\n`);
  return 0;
}

/** Passes on every complete non-empty line except the latest one, which it holds until another comes. */
export class HeldLastLine {
  #partial = '';
  #last: string | undefined;
  readonly #emit: (line: string) => void;
  constructor(emit: (line: string) => void) {
    this.#emit = emit;
  }
  push(chunk: string): void {
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      if (this.#last !== undefined) this.#emit(this.#last);
      this.#last = line;
    }
  }
}
