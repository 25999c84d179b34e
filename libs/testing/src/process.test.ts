import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ManagedProcess, ProcessFailedError, liveProcesses } from './process.ts';

const dir = mkdtempSync(join(tmpdir(), 'strait-process-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A process is alive if /proc lists it and it is not a zombie waiting for its new parent to reap it. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

const sh = (name: string, script: string) =>
  new ManagedProcess({ name, command: '/bin/sh', args: ['-c', script], logFile: join(dir, `${name}.log`) });

describe('ManagedProcess', () => {
  it('starts, becomes ready, logs to its file and stops with SIGTERM', async () => {
    const flag = join(dir, 'ready-flag');
    const p = sh('ready', `echo hello from child; touch ${flag}; exec sleep 30`);
    p.start();
    expect(p.running).toBe(true);
    expect(liveProcesses()).toContain(p);
    await p.waitReady(async () => existsSync(flag), { timeoutMs: 5_000 });
    const status = await p.stop();
    expect(status?.signal).toBe('SIGTERM');
    expect(p.running).toBe(false);
    expect(liveProcesses()).not.toContain(p);
    expect(readFileSync(join(dir, 'ready.log'), 'utf8')).toContain('hello from child');
  });

  it('fails fast, with the end of its log, when the process exits before it is ready', async () => {
    const p = sh('crash', 'echo "listen tcp 127.0.0.1:1: bind: address already in use" >&2; exit 3');
    p.start();
    const err = await p.waitReady(async () => false, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessFailedError);
    expect((err as Error).message).toMatch(/crash exited \(code 3\) before it was ready/);
    expect((err as ProcessFailedError).logTail).toContain('address already in use');
  });

  it('times out with the last probe error', async () => {
    const p = sh('slow', 'exec sleep 30');
    p.start();
    try {
      await expect(
        p.waitReady(async () => {
          throw new Error('connection refused');
        }, { timeoutMs: 200 }),
      ).rejects.toThrow(/slow was not ready after 200 ms \(last probe error: connection refused\)/);
    } finally {
      await p.stop();
    }
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const p = sh('stubborn', "trap '' TERM; exec sleep 30");
    p.start();
    await sleep(100);
    const status = await p.stop({ timeoutMs: 200 });
    expect(status?.signal).toBe('SIGKILL');
  });

  it('reports a command that cannot be spawned', async () => {
    const p = new ManagedProcess({ name: 'missing', command: join(dir, 'no-such-binary'), args: [], logFile: join(dir, 'missing.log') });
    expect(() => p.start()).toThrow(/missing: cannot run .*no-such-binary \(missing or not executable\)/);
    expect(p.running).toBe(false);
  });

  it('refuses to start twice and can be restarted after it stopped', async () => {
    const p = sh('twice', 'exec sleep 30');
    p.start();
    expect(() => p.start()).toThrow(/already running/);
    const first = p.pid;
    await p.stop();
    p.start();
    expect(p.pid).not.toBe(first);
    await p.stop();
    expect(readFileSync(join(dir, 'twice.log'), 'utf8').match(/starting/g)).toHaveLength(2);
  });
});

describe('process registry', () => {
  const fixture = join(import.meta.dirname, 'fixtures', 'hold-process.ts');

  async function holdChild(tag: string) {
    const marker = join(dir, `${tag}.marker`);
    const node = spawn(process.execPath, [fixture, join(dir, `${tag}.log`), marker], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      node.stdout.once('data', (b: Buffer) => resolve(b.toString()));
      node.once('exit', (code) => reject(new Error(`fixture exited early (${code})`)));
    });
    const { pid } = JSON.parse(line) as { pid: number };
    const exited = new Promise<NodeJS.Signals | null>((resolve) => node.once('exit', (_c, s) => resolve(s)));
    return { node, pid, marker, exited };
  }

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`kills the children and runs the cleanups when the process gets ${signal}, then terminates`, async () => {
      const h = await holdChild(signal);
      expect(alive(h.pid)).toBe(true);
      h.node.kill(signal);
      expect(await h.exited).toBe(signal);
      await until(() => !alive(h.pid));
      expect(readFileSync(h.marker, 'utf8')).toBe('cleaned');
    });
  }

  it('children die with a SIGKILLed parent (parent-death signal)', async () => {
    const h = await holdChild('sigkill');
    h.node.kill('SIGKILL');
    await h.exited;
    await until(() => !alive(h.pid));
  });
});
