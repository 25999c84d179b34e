import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { failover, peers } from './benchmarks.ts';
import { HeldLastLine, benchCommand, runBench, type BenchDeps, type ScriptRun } from './run.ts';

function sink(): { w: Writable; text: () => string } {
  let s = '';
  return {
    w: new Writable({
      write(c: Buffer | string, _e, cb) {
        s += c.toString();
        cb();
      },
    }),
    text: () => s,
  };
}

const PEERS_RESULT = { bench: 'peers', peers: 100, allReconciledMs: 1800, devicePeersMs: 1800, statusesMs: 1500, rssMiB: { 'broker-sync': 70.2 }, notes: [] };

function fakes(run: Partial<ScriptRun> & { stderr?: string } = {}, o: { root?: boolean; doc?: string } = {}) {
  const calls: { script: string; args: readonly string[] }[] = [];
  const docs = new Map<string, string>(o.doc !== undefined ? [['/d/benchmarks.md', o.doc]] : []);
  const deps: BenchDeps = {
    async runScript(script, args, on) {
      calls.push({ script, args });
      on.stderr(run.stderr ?? 'peers: lab up\n');
      const stdout = run.stdout ?? `summary line\n${JSON.stringify(PEERS_RESULT)}\n`;
      // In two pieces, split inside a line, as a pipe may deliver it.
      on.stdout(stdout.slice(0, 5));
      on.stdout(stdout.slice(5));
      return { code: run.code === undefined ? 0 : run.code, signal: run.signal ?? null, stdout };
    },
    readDoc: (p) => docs.get(p),
    writeDoc: (p, t) => void docs.set(p, t),
    now: () => new Date('2026-12-07T23:50:00Z'),
    machine: () => ({ cores: 2, cpu: 'Fake CPU', kernel: 'Linux 6.1', memoryGiB: 8, load1: 1.5 }),
    isRoot: () => o.root ?? true,
  };
  return { deps, calls, docs };
}

describe('runBench', () => {
  it('runs the script with --json, prints a summary and one JSON line, writes the docs section', async () => {
    const f = fakes({}, { doc: '# Benchmarks\n\nintro\n' });
    const out = sink();
    const err = sink();
    expect(await runBench(peers, { trials: undefined, json: false, doc: '/d/benchmarks.md' }, { stdout: out.w, stderr: err.w }, f.deps)).toBe(0);
    expect(f.calls).toEqual([{ script: 'apps/tunnel-operator/bench/peers.bench.ts', args: ['--json'] }]);
    const lines = out.text().trimEnd().split('\n');
    expect(lines[0]).toBe(`peers: ${peers.title}`);
    expect(out.text()).toContain('100 peers reconciled (status and device)  1800 ms  (goal ≤ 5000 ms: met)');
    const json = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
    expect(json).toMatchObject({ bench: 'peers', date: '2026-12-07T23:50:00.000Z', goalsMet: true, command: 'npx straitctl bench peers', detail: PEERS_RESULT });
    // Progress and the script's own output go to stderr.
    expect(err.text()).toContain('peers: lab up\n');
    expect(err.text()).toContain('summary line\n');
    expect(err.text()).not.toContain('"allReconciledMs"');
    const doc = f.docs.get('/d/benchmarks.md')!;
    expect(doc.startsWith('# Benchmarks\n\nintro\n\n<!-- straitctl bench peers: begin -->\n## peers\n')).toBe(true);
    expect(doc).toContain('| 100 peers reconciled (status and device) | 1800 ms | ≤ 5000 ms (met) |');
  });

  it('--json prints only the JSON line on stdout', async () => {
    const f = fakes();
    const out = sink();
    await runBench(peers, { trials: undefined, json: true, doc: '/d/benchmarks.md' }, { stdout: out.w, stderr: sink().w }, f.deps);
    expect(out.text().split('\n')).toHaveLength(2);
    expect(JSON.parse(out.text())).toMatchObject({ bench: 'peers' });
  });

  it('passes --trials on and names it in the command', async () => {
    const f = fakes({ stdout: `${JSON.stringify({ samples: [{ kind: 'graceful', longestGapMs: 200, lost: 1, sent: 2 }, { kind: 'crash', longestGapMs: 1500, lost: 1, sent: 2 }] })}\n` });
    const out = sink();
    await runBench(failover, { trials: 1, json: true, doc: '/d/benchmarks.md' }, { stdout: out.w, stderr: sink().w }, f.deps);
    expect(f.calls[0]?.args).toEqual(['--json', '--rounds=1']);
    expect(JSON.parse(out.text())).toMatchObject({ command: 'npx straitctl bench failover --trials 1', goalsMet: true });
    expect(benchCommand(failover, undefined)).toBe('npx straitctl bench failover --trials 3');
  });

  it('refuses without root, and --trials where the benchmark takes none, running nothing', async () => {
    const f = fakes({}, { root: false });
    const io = { stdout: sink().w, stderr: sink().w };
    await expect(runBench(peers, { trials: undefined, json: false, doc: '/d/b.md' }, io, f.deps)).rejects.toThrow('peers needs root (it builds network namespaces and runs real control planes): run it as root, e.g. sudo npx straitctl bench peers');
    await expect(runBench(peers, { trials: 2, json: false, doc: '/d/b.md' }, io, fakes().deps)).rejects.toThrow('peers takes no --trials');
    expect(f.calls).toEqual([]);
  });

  it('a failing script or a bad result line is a clear error and leaves the docs alone', async () => {
    const io = { stdout: sink().w, stderr: sink().w };
    const opts = { trials: undefined, json: false, doc: '/d/benchmarks.md' };
    let f = fakes({ code: 1, stdout: '' }, { doc: 'kept' });
    await expect(runBench(peers, opts, io, f.deps)).rejects.toThrow('apps/tunnel-operator/bench/peers.bench.ts exited with code 1 (its messages are above)');
    expect(f.docs.get('/d/benchmarks.md')).toBe('kept');
    f = fakes({ code: null, signal: 'SIGKILL' });
    await expect(runBench(peers, opts, io, f.deps)).rejects.toThrow('was killed by SIGKILL');
    f = fakes({ stdout: 'table only\n' }, { doc: 'kept' });
    await expect(runBench(peers, opts, io, f.deps)).rejects.toThrow('the last line of stdout is not JSON: "table only"');
    f = fakes({ stdout: '{"peers":100}\n' }, { doc: 'kept' });
    await expect(runBench(peers, opts, io, f.deps)).rejects.toThrow('unexpected result: apps/tunnel-operator/bench/peers.bench.ts: result has no number at allReconciledMs');
    expect(f.docs.get('/d/benchmarks.md')).toBe('kept');
  });
});

describe('HeldLastLine', () => {
  it('passes on complete lines as they come and holds back the last one', () => {
    const out: string[] = [];
    const h = new HeldLastLine((l) => out.push(l));
    h.push('a\nb');
    expect(out).toEqual([]);
    h.push('b\n\n');
    expect(out).toEqual(['a']);
    h.push('c\n{"result":1}\n');
    expect(out).toEqual(['a', 'bb', 'c']);
  });
});
