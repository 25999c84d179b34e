import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Test helpers that run a Strait service as a real process (Node 24 running its TypeScript entry point),
 * for the apps' integration tests. No test-framework imports: callers assert on what these return.
 */

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

export interface SpawnOptions {
  /** Extra environment. The parent's KUBECONFIG, NODE_NAME and STRAIT_* variables are never inherited. */
  env?: Record<string, string>;
  cwd?: string;
}

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'KUBECONFIG' || k === 'NODE_NAME' || k.startsWith('STRAIT_') || k.startsWith('VITEST') || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function entry(main: string | URL): string {
  return typeof main === 'string' ? main : fileURLToPath(main);
}

/** A service process started with startServiceProcess(). */
export class ServiceProcess {
  readonly child: ChildProcess;
  #stdout = '';
  #stderr = '';
  readonly #exited: Promise<ExitStatus>;
  #exit: ExitStatus | undefined;

  constructor(main: string | URL, args: readonly string[], opts: SpawnOptions = {}) {
    this.child = spawn(process.execPath, [entry(main), ...args], { env: childEnv(opts.env), cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8').on('data', (c: string) => (this.#stdout += c));
    this.child.stderr?.setEncoding('utf8').on('data', (c: string) => (this.#stderr += c));
    this.#exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
      this.child.on('error', () => {
        this.#exit = { code: null, signal: null };
        resolve(this.#exit);
      });
    });
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  get exitStatus(): ExitStatus | undefined {
    return this.#exit;
  }

  /** The JSON log lines written so far (non-JSON lines are skipped). */
  logs(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const line of this.#stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a partial line
      }
    }
    return out;
  }

  /** Waits for a log line with this `msg`; rejects when the process exits first or on timeout. */
  async waitForLog(msg: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.logs().find((l) => l['msg'] === msg);
      if (hit) return hit;
      if (this.#exit) throw new Error(`process exited (${JSON.stringify(this.#exit)}) before logging "${msg}"; stderr: ${this.#stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`no "${msg}" log line within ${timeoutMs} ms; stdout: ${this.#stdout.slice(-2000)}`);
      await sleep(25);
    }
  }

  /** The probe server's base URL (from the `probe server listening` log line). */
  async probeBase(timeoutMs = 20_000): Promise<string> {
    const line = await this.waitForLog('probe server listening', timeoutMs);
    const addr = String(line['probeAddr']);
    const port = addr.slice(addr.lastIndexOf(':') + 1);
    return `http://127.0.0.1:${port}`;
  }

  async get(path: string): Promise<HttpAnswer> {
    const res = await fetch(`${await this.probeBase()}${path}`);
    return { status: res.status, body: await res.text() };
  }

  /** Polls `/readyz?verbose` until it answers 200 (with `informational`, also with every non-gating check passing); returns that body. Rejects with the last answer on timeout. */
  async waitForReady(timeoutMs = 30_000, opts: { informational?: boolean } = {}): Promise<string> {
    const base = await this.probeBase(timeoutMs);
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      if (this.#exit) throw new Error(`process exited (${JSON.stringify(this.#exit)}) before it was ready; stderr: ${this.#stderr.trim()}`);
      try {
        const res = await fetch(`${base}/readyz?verbose`);
        last = `${res.status} ${await res.text()}`;
        // With `informational`, also wait for the checks that do not gate readiness (`[!]name degraded`), e.g. NATS.
        if (res.status === 200 && !(opts.informational && /^\[!\]/m.test(last.slice(4)))) return last.slice(4);
      } catch (err) {
        last = String(err);
      }
      if (Date.now() > deadline) throw new Error(`not ready within ${timeoutMs} ms; last /readyz: ${last}`);
      await sleep(100);
    }
  }

  /** Resolves when the process has exited (or rejects after timeoutMs, leaving it running). */
  async waitForExit(timeoutMs = 10_000): Promise<ExitStatus> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.#exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`process ${this.child.pid} still running after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal` and waits for the exit; returns the status and how long it took. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<ExitStatus & { ms: number }> {
    const t0 = performance.now();
    if (!this.#exit) this.child.kill(signal);
    const status = await this.waitForExit(timeoutMs);
    return { ...status, ms: performance.now() - t0 };
  }

  /** SIGKILL when still running (for afterEach/finally). */
  async kill(): Promise<void> {
    if (this.#exit) return;
    this.child.kill('SIGKILL');
    await this.#exited;
  }
}

export function startServiceProcess(main: string | URL, args: readonly string[], opts: SpawnOptions = {}): ServiceProcess {
  return new ServiceProcess(main, args, opts);
}

/** Runs a process that is expected to exit by itself (bad flags, --help); kills it after timeoutMs. */
export async function runToExit(main: string | URL, args: readonly string[], opts: SpawnOptions & { timeoutMs?: number } = {}): Promise<ExitStatus & { stdout: string; stderr: string }> {
  const p = new ServiceProcess(main, args, opts);
  try {
    const status = await p.waitForExit(opts.timeoutMs ?? 30_000);
    return { ...status, stdout: p.stdout, stderr: p.stderr };
  } finally {
    await p.kill();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
