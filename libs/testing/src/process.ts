import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readSync, fstatSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcessSpec {
  /** Used in messages, e.g. `kube-apiserver (cluster-1)`. */
  name: string;
  command: string;
  args: readonly string[];
  /** stdout and stderr are appended here (kept across restarts). */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all. */
  error?: Error;
}

export interface ReadyOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** Pause between attempts (default 50 ms, growing to 250 ms). */
  intervalMs?: number;
}

/** `setpriv --pdeathsig KILL` makes the kernel kill a child even if this process is SIGKILLed. */
const SETPRIV = '/usr/bin/setpriv';
let setprivUsable: boolean | undefined;
function hasSetpriv(): boolean {
  if (setprivUsable === undefined) {
    try {
      accessSync(SETPRIV, constants.X_OK);
      setprivUsable = process.platform === 'linux';
    } catch {
      setprivUsable = false;
    }
  }
  return setprivUsable;
}

/**
 * One supervised child process: spawned with its output appended to a log file, tracked until it exits,
 * stopped with SIGTERM then SIGKILL after a timeout. While it runs it is listed in the process-wide
 * registry, which kills it if this process exits or receives SIGINT/SIGTERM/SIGHUP.
 */
export class ManagedProcess {
  readonly spec: ProcessSpec;
  private child: ChildProcess | undefined;
  private exitPromise: Promise<ExitStatus> = Promise.resolve({ code: null, signal: null });
  private status: ExitStatus | undefined;

  constructor(spec: ProcessSpec) {
    this.spec = spec;
  }

  get name(): string {
    return this.spec.name;
  }
  /** Pid of the current (or last) child. */
  get pid(): number | undefined {
    return this.child?.pid;
  }
  get running(): boolean {
    return this.child !== undefined && this.status === undefined;
  }
  /** How the last run ended (undefined while running or before the first start). */
  get exitStatus(): ExitStatus | undefined {
    return this.status;
  }
  /** Resolves when the current child has exited. */
  get exited(): Promise<ExitStatus> {
    return this.exitPromise;
  }

  /** Spawns the child. Throws if it is already running. */
  start(): void {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    if (this.spec.command.includes('/')) {
      try {
        accessSync(this.spec.command, constants.X_OK);
      } catch {
        throw new Error(`${this.name}: cannot run ${this.spec.command} (missing or not executable)`);
      }
    }
    const fd = openSync(this.spec.logFile, 'a');
    writeSync(fd, `--- ${new Date().toISOString()} starting ${this.spec.command}\n`);
    const [command, args] = hasSetpriv()
      ? [SETPRIV, ['--pdeathsig', 'KILL', '--', this.spec.command, ...this.spec.args]]
      : [this.spec.command, [...this.spec.args]];
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        stdio: ['ignore', fd, fd],
        env: this.spec.env ?? process.env,
        cwd: this.spec.cwd,
      });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.status = undefined;
    this.exitPromise = new Promise<ExitStatus>((resolve) => {
      const done = (s: ExitStatus) => {
        if (this.child !== child || this.status) return;
        this.status = s;
        registry.remove(this);
        resolve(s);
      };
      child.once('exit', (code, signal) => done({ code, signal }));
      child.once('error', (error) => done({ code: null, signal: null, error }));
    });
    if (child.pid !== undefined) registry.add(this);
  }

  /**
   * Polls `probe` until it returns true. Fails early, with the end of the log, if the process exits;
   * fails with the end of the log after the timeout.
   */
  async waitReady(probe: () => Promise<boolean>, opts: ReadyOptions = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    let interval = opts.intervalMs ?? 50;
    const deadline = Date.now() + timeoutMs;
    let lastError = '';
    for (;;) {
      if (!this.running) {
        const s = this.status;
        const how = s?.error ? `failed to start: ${s.error.message}` : `exited (${describeExit(s)})`;
        throw new ProcessFailedError(`${this.name} ${how} before it was ready`, this.logTail());
      }
      try {
        if (await probe()) return;
      } catch (err) {
        lastError = (err as Error).message;
      }
      if (Date.now() > deadline) {
        throw new ProcessFailedError(
          `${this.name} was not ready after ${timeoutMs} ms${lastError ? ` (last probe error: ${lastError})` : ''}`,
          this.logTail(),
        );
      }
      await sleep(interval);
      interval = Math.min(interval * 1.5, 250);
    }
  }

  /** Sends `signal` (default SIGTERM), then SIGKILL after `timeoutMs` (default 10 s); resolves once exited. */
  async stop(opts: { signal?: NodeJS.Signals; timeoutMs?: number } = {}): Promise<ExitStatus | undefined> {
    const child = this.child;
    if (!child || !this.running) return this.status;
    const signal = opts.signal ?? 'SIGTERM';
    child.kill(signal);
    if (signal !== 'SIGKILL') {
      const timer = sleep(opts.timeoutMs ?? 10_000, 'timeout' as const, { ref: false });
      if ((await Promise.race([this.exitPromise, timer])) === 'timeout') child.kill('SIGKILL');
    }
    return this.exitPromise;
  }

  /** Synchronous last resort used by the registry on process exit. */
  killNow(): void {
    if (this.running) this.child?.kill('SIGKILL');
  }

  /** The last lines of the log file (for error messages). */
  logTail(lines = 25): string {
    return readTail(this.spec.logFile, lines);
  }
}

export class ProcessFailedError extends Error {
  readonly logTail: string;
  constructor(message: string, logTail: string) {
    super(logTail ? `${message}; last log lines:\n${logTail}` : message);
    this.name = 'ProcessFailedError';
    this.logTail = logTail;
  }
}

function describeExit(s: ExitStatus | undefined): string {
  if (!s) return 'unknown';
  return s.signal ? `signal ${s.signal}` : `code ${s.code}`;
}

export function readTail(file: string, lines: number, maxBytes = 16_384): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8').split('\n').filter(Boolean).slice(-lines).join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Process-wide registry

type Cleanup = () => void;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

class Registry {
  readonly live = new Set<ManagedProcess>();
  readonly cleanups = new Set<Cleanup>();
  private installed = false;

  add(p: ManagedProcess): void {
    this.live.add(p);
    this.install();
  }
  remove(p: ManagedProcess): void {
    this.live.delete(p);
    this.maybeUninstall();
  }
  addCleanup(fn: Cleanup): () => void {
    this.cleanups.add(fn);
    this.install();
    return () => {
      this.cleanups.delete(fn);
      this.maybeUninstall();
    };
  }

  /** Kills every live child and runs the synchronous cleanups (exit and signal path). */
  killAllSync(): void {
    for (const p of this.live) p.killNow();
    for (const fn of this.cleanups) {
      try {
        fn();
      } catch {
        // best effort on the way out
      }
    }
    this.cleanups.clear();
  }

  private readonly onExit = (): void => this.killAllSync();
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.killAllSync();
    // If nobody else handles the signal, restore the default behaviour (terminate) and re-raise it.
    if (process.listenerCount(signal) === 1) {
      this.uninstall();
      process.kill(process.pid, signal);
    }
  };

  private install(): void {
    if (this.installed) return;
    this.installed = true;
    process.on('exit', this.onExit);
    for (const s of SIGNALS) process.on(s, this.onSignal);
  }
  private maybeUninstall(): void {
    if (this.live.size === 0 && this.cleanups.size === 0) this.uninstall();
  }
  private uninstall(): void {
    if (!this.installed) return;
    this.installed = false;
    process.off('exit', this.onExit);
    for (const s of SIGNALS) process.off(s, this.onSignal);
  }
}

const registry = new Registry();

/** Children started by this process that have not exited yet. */
export function liveProcesses(): ManagedProcess[] {
  return [...registry.live];
}

/**
 * Registers a synchronous cleanup (e.g. removing a temp directory) run if this process exits or is
 * interrupted before the owner cleans up. Returns the function that unregisters it.
 */
export function registerExitCleanup(fn: () => void): () => void {
  return registry.addCleanup(fn);
}

/** Kills every live child now (SIGKILL) and runs the registered cleanups. */
export function killAllProcessesSync(): void {
  registry.killAllSync();
}
