import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * A helper script from `tools/` running inside a namespace (`ip netns exec <ns> node <script> ...`)
 * and speaking one JSON object per stdout line (`{"event": "ready" | "result" | "error", ...}`).
 * Its stdin stays open: every tool exits when stdin closes, so a test process that dies (even by
 * SIGKILL) takes its helpers with it.
 */

export const TOOLS_DIR = resolve(import.meta.dirname, 'tools');

export interface ToolMessage {
  readonly event: string;
  readonly [key: string]: unknown;
}

export interface ToolExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ToolStart {
  readonly netns: string;
  /** File name under tools/ (`udp-echo.ts`). */
  readonly script: string;
  readonly args: readonly string[];
  /** Node binary (default: the one running this process). */
  readonly nodeBinary?: string;
}

const TAIL = 20;

function sbinPath(): string {
  const parts = (process.env['PATH'] ?? '/usr/bin:/bin').split(':');
  for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!parts.includes(d)) parts.push(d);
  return parts.join(':');
}

export class ToolProcess {
  readonly label: string;
  readonly child: ChildProcessWithoutNullStreams;
  readonly messages: ToolMessage[] = [];
  readonly exited: Promise<ToolExit>;
  #exit: ToolExit | undefined;
  readonly #stderr: string[] = [];
  readonly #waiters = new Set<() => void>();

  constructor(start: ToolStart) {
    this.label = `${start.script} ${start.args.join(' ')} (netns ${start.netns})`;
    this.child = spawn('ip', ['netns', 'exec', start.netns, start.nodeBinary ?? process.execPath, resolve(TOOLS_DIR, start.script), ...start.args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PATH: sbinPath(), LC_ALL: 'C' },
    });
    this.child.stdin.on('error', () => undefined);
    let buf = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) this.#line(line);
      }
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d: string) => {
      this.#stderr.push(...d.split('\n').filter(Boolean));
      if (this.#stderr.length > TAIL) this.#stderr.splice(0, this.#stderr.length - TAIL);
    });
    this.exited = new Promise((res) => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.#exit) return;
        this.#exit = { code, signal };
        this.#notify();
        res(this.#exit);
      };
      this.child.on('close', done);
      this.child.on('error', (e) => {
        this.#stderr.push(e.message);
        done(null, null);
      });
    });
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  #line(line: string): void {
    try {
      const m = JSON.parse(line) as unknown;
      if (typeof m === 'object' && m !== null && typeof (m as ToolMessage).event === 'string') {
        this.messages.push(m as ToolMessage);
        this.#notify();
        return;
      }
    } catch {
      // not a message: keep it as diagnostics
    }
    this.#stderr.push(line);
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** What went wrong, for error messages: the last error message, exit status and stderr tail. */
  describeFailure(): string {
    const err = this.messages.find((m) => m.event === 'error');
    const parts = [this.label];
    if (err) parts.push(String(err['message']));
    if (this.#exit) parts.push(this.#exit.signal ? `killed by ${this.#exit.signal}` : `exit code ${String(this.#exit.code)}`);
    if (this.#stderr.length > 0) parts.push(`stderr: ${this.#stderr.slice(-5).join(' | ')}`);
    return parts.join(': ');
  }

  /**
   * The first message (already received or future) with this event. Rejects when the tool reports
   * an error, exits first, or `timeoutMs` passes.
   */
  waitFor(event: string, timeoutMs: number): Promise<ToolMessage> {
    return new Promise((res, rej) => {
      const check = (): void => {
        const m = this.messages.find((x) => x.event === event);
        const bad = this.messages.find((x) => x.event === 'error');
        if (m) finish(() => res(m));
        else if (bad) finish(() => rej(new Error(this.describeFailure())));
        else if (this.#exit) finish(() => rej(new Error(`${this.describeFailure()} (before "${event}")`)));
      };
      const finish = (f: () => void): void => {
        this.#waiters.delete(check);
        clearTimeout(timer);
        f();
      };
      const timer = setTimeout(() => finish(() => rej(new Error(`${this.label}: no "${event}" within ${timeoutMs} ms`))), timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** Writes a line to the tool's stdin. */
  send(line: string): void {
    if (this.running) this.child.stdin.write(`${line}\n`);
  }

  /** SIGKILL now; resolves when it is gone. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}
