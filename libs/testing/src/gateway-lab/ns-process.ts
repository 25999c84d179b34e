import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A process started inside a network namespace (`ip netns exec <ns> argv...`) with its combined
 * output kept for assertions: services of a simulated node (tunnel-operator, route-agent) and the
 * relays they reach the host's API server through.
 */
export class NsProcess {
  readonly child: ChildProcess;
  out = '';
  readonly exited: Promise<number | null>;
  constructor(ns: string, argv: string[]) {
    this.child = spawn('ip', ['netns', 'exec', ns, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root' },
    });
    this.child.stdout?.setEncoding('utf8').on('data', (c: string) => (this.out += c));
    this.child.stderr?.setEncoding('utf8').on('data', (c: string) => (this.out += c));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  async waitFor(re: RegExp, timeoutMs = 60_000): Promise<void> {
    await until(`${re} in output`, () => re.test(this.out) || undefined, timeoutMs).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\n--- output ---\n${this.out.slice(-4000)}`);
    });
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    this.child.kill(signal);
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

/** Polls `probe` until it returns something other than undefined (errors count as "not yet"). */
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
