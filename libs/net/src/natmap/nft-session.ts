import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { NetCommandError, spawnArgv, type CommandRunner, type RunOptions, type RunResult } from '../exec.ts';

/**
 * A long-lived interactive `nft -i` fed small transactions over stdin.
 *
 * Why: with nft 1.0.6 one `nft -f -` of a single delete + add in a 10 000-element map costs
 * 12-16 ms, most of it a new process (plus `ip netns exec`) building its cache from the kernel.
 * A process that stays up keeps its cache and commits the same transaction in well under a
 * millisecond (see apps/natmapping-operator/bench/nat-scale.bench.ts).
 *
 * Protocol: each transaction is written as ONE line (commands joined with ";"), which nft commits
 * as one batch: all or nothing, like `nft -f`. It is followed by a marker line
 * (`strait_sync_<n>`), a deliberate syntax error that nft reports on stderr without touching the
 * kernel or its cache. Whatever nft wrote to stderr before the marker's error belongs to the
 * transaction: an `Error:` there is its failure. One transaction at a time.
 *
 * Safety:
 *  - the process is restarted when it exits, hangs (timeout → SIGKILL) or when the target
 *    namespace was re-created (its inode changed): a process holding the old namespace would
 *    otherwise program a namespace nobody uses;
 *  - after a start the process's own namespace is compared with the target's;
 *  - HOME points nowhere, so the line editor keeps no history file.
 */

export interface ChildLike {
  readonly pid?: number | undefined;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  kill(signal?: NodeJS.Signals): boolean;
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface NamespaceIdentity {
  /** Identity (device:inode) of the target namespace now; undefined when it does not exist. */
  target(): string | undefined;
  /** Identity of the namespace process `pid` is in. */
  ofProcess(pid: number): string | undefined;
}

export interface NftSessionOptions {
  /** Namespace name (`ip netns`); undefined: the caller's own. */
  readonly netns?: string | undefined;
  /** Per transaction (ms), default 10 000. A timed-out process is killed and restarted. */
  readonly timeoutMs?: number;
  /** Starts `nft -i` (tests pass a fake). Default: `[ip netns exec <netns>] nft -i`. */
  readonly spawn?: () => ChildLike;
  /** Namespace identity checks; `false` disables them (fakes). Default: inodes under /run/netns and /proc. */
  readonly identity?: NamespaceIdentity | false;
}

function inodeOf(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

/** Namespace identities from the kernel's nsfs inodes. */
export function procNamespaceIdentity(netns: string | undefined): NamespaceIdentity {
  return {
    target: () => inodeOf(netns ? `/run/netns/${netns}` : '/proc/self/ns/net'),
    ofProcess: (pid) => inodeOf(`/proc/${pid}/ns/net`),
  };
}

function defaultSpawn(netns: string | undefined): () => ChildLike {
  return () => {
    const [file, argv] = spawnArgv('nft', ['-i'], netns);
    const path = (process.env['PATH'] ?? '/usr/bin:/bin').split(':');
    for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!path.includes(d)) path.push(d);
    return spawn(file, argv, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: path.join(':'), LC_ALL: 'C', HOME: '/nonexistent' },
    });
  };
}

interface Pending {
  readonly marker: string;
  readonly re: RegExp;
  resolve(out: string): void;
  reject(err: Error): void;
  readonly timer: NodeJS.Timeout;
}

interface Running {
  readonly child: ChildLike;
  readonly identity: string | undefined;
  exited: boolean;
  stderr: string;
  pending: Pending | undefined;
}

/** One nft transaction per call, through a long-lived `nft -i`. */
export class NftSession {
  readonly netns: string | undefined;
  readonly #timeoutMs: number;
  readonly #spawn: () => ChildLike;
  readonly #identity: NamespaceIdentity | false;
  #proc: Running | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #seq = 0;
  #closed = false;
  /** Processes started so far (for tests and metrics). */
  starts = 0;

  constructor(opts: NftSessionOptions = {}) {
    this.netns = opts.netns;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#spawn = opts.spawn ?? defaultSpawn(opts.netns);
    this.#identity = opts.identity ?? procNamespaceIdentity(opts.netns);
  }

  /**
   * Commits `script` (nft commands, one per line) as one transaction. Rejects with a
   * {@link NetCommandError} carrying nft's message when nft refuses it (nothing changed then).
   */
  run(script: string): Promise<void> {
    const next = this.#chain.then(() => this.#runNow(script));
    this.#chain = next.catch(() => undefined);
    return next;
  }

  /** Ends the process (stdin closed; killed if it does not exit within 2 s). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#chain;
    const p = this.#proc;
    this.#proc = undefined;
    if (p) await this.#stop(p, false);
  }

  async #runNow(script: string): Promise<void> {
    if (this.#closed) throw this.#error('the nft session is closed', '');
    const lines = script.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    if (lines.length === 0) return;
    for (const l of lines) {
      if (l.includes('#')) throw this.#error('a transaction line holds "#" (the rest of the line would be a comment)', '');
    }
    const p = await this.#ensure();
    const out = await this.#exchange(p, lines.join(' ; '));
    if (/(^|\n)Error:/.test(out)) throw this.#error(undefined, out);
  }

  async #ensure(): Promise<Running> {
    const cur = this.#proc;
    if (cur && !cur.exited) {
      if (!this.#identity || this.#identity.target() === cur.identity) return cur;
      // The namespace was deleted or re-created since this process entered it.
      this.#proc = undefined;
      await this.#stop(cur, true);
    }
    const child = this.#spawn();
    this.starts++;
    const p: Running = { child, identity: undefined, exited: false, stderr: '', pending: undefined };
    child.stdout.on('data', () => undefined); // nft prints nothing for element commands; keep the pipe drained
    child.stderr.on('data', (b: Buffer | string) => {
      p.stderr += b.toString();
      this.#settle(p);
    });
    const gone = (why: string): void => {
      if (p.exited) return;
      p.exited = true;
      const pend = p.pending;
      p.pending = undefined;
      if (pend) {
        clearTimeout(pend.timer);
        pend.reject(this.#error(why, p.stderr));
      }
    };
    child.on('exit', (code, signal) => gone(signal ? `nft -i was killed by ${signal}` : `nft -i exited with code ${String(code)}`));
    child.on('error', (e) => gone(`nft -i could not run: ${e.message}`));
    child.stdin.on('error', () => undefined); // EPIPE after an exit: reported through 'exit'
    this.#proc = p;
    await this.#exchange(p, ''); // wait until nft answers: it is up, inside its namespace
    if (this.#identity) {
      const target = this.#identity.target();
      const own = child.pid === undefined ? undefined : this.#identity.ofProcess(child.pid);
      if (target === undefined || own !== target) {
        this.#proc = undefined;
        await this.#stop(p, true);
        throw this.#error(target === undefined ? 'the namespace does not exist' : 'nft -i did not enter the namespace', '');
      }
      (p as { identity: string | undefined }).identity = target;
    }
    return p;
  }

  #exchange(p: Running, line: string): Promise<string> {
    if (p.exited) return Promise.reject(this.#error('nft -i is not running', p.stderr));
    const marker = `strait_sync_${++this.#seq}`;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (p.pending?.marker !== marker) return;
        p.pending = undefined;
        reject(this.#error(`no answer from nft -i within ${this.#timeoutMs} ms`, p.stderr));
        if (this.#proc === p) this.#proc = undefined;
        void this.#stop(p, true);
      }, this.#timeoutMs);
      p.pending = {
        marker,
        re: new RegExp(`(^|\\n)Error: [^\\n]*\\n${marker}\\n[^\\n]*\\n`),
        resolve,
        reject,
        timer,
      };
      p.child.stdin.write(`${line === '' ? '' : `${line}\n`}${marker}\n`);
      this.#settle(p);
    });
  }

  #settle(p: Running): void {
    const pend = p.pending;
    if (!pend) return;
    const m = pend.re.exec(p.stderr);
    if (!m) return;
    const before = p.stderr.slice(0, m.index + (m[1]?.length ?? 0));
    p.stderr = p.stderr.slice(m.index + m[0].length);
    p.pending = undefined;
    clearTimeout(pend.timer);
    pend.resolve(before);
  }

  async #stop(p: Running, kill: boolean): Promise<void> {
    if (p.exited) return;
    const exited = new Promise<void>((resolve) => {
      p.child.on('exit', () => resolve());
      if (p.exited) resolve();
    });
    if (kill) p.child.kill('SIGKILL');
    else p.child.stdin.end();
    const t = setTimeout(() => p.child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(t);
  }

  #error(detail: string | undefined, stderr: string): NetCommandError {
    return new NetCommandError({
      command: 'nft',
      args: ['-i'],
      ...(this.netns ? { netns: this.netns } : {}),
      exitCode: null,
      // nft underlines the offending part with a line of carets: noise in a one-line message
      stderr: stderr
        .split('\n')
        .filter((l) => !/^[\s^~]*$/.test(l))
        .join('\n'),
      ...(detail ? { detail } : {}),
    });
  }
}

/** Lines a session may carry: element changes only (the hot path). */
const ELEMENT_LINE = /^(add|delete) element [a-z0-9]+ [A-Za-z][A-Za-z0-9_]* [A-Za-z][A-Za-z0-9_]* \{[^#;]*\}$/;

export interface SessionRunnerOptions {
  /** Larger scripts go to `nft -f -` (one long line through the line editor is slower). Default 64 KiB. */
  readonly maxInputBytes?: number;
}

/**
 * A {@link CommandRunner} for the nftables port that sends element-only `nft -f -` transactions
 * for the session's namespace through `session`, and everything else (reads, table applies, large
 * scripts) to `base`.
 */
export function sessionRunner(base: CommandRunner, session: NftSession, opts: SessionRunnerOptions = {}): CommandRunner {
  const max = opts.maxInputBytes ?? 64 * 1024;
  return {
    async run(cmd: string, args: readonly (string | { secret: string })[], o: RunOptions = {}): Promise<RunResult> {
      const input = o.input;
      if (
        cmd === 'nft' &&
        args.length === 2 &&
        args[0] === '-f' &&
        args[1] === '-' &&
        (o.netns ?? undefined) === session.netns &&
        typeof input === 'string' &&
        !o.secretInput &&
        input.length <= max &&
        input.split('\n').every((l) => l.trim() === '' || ELEMENT_LINE.test(l.trim()))
      ) {
        await session.run(input);
        return { stdout: '', stderr: '' };
      }
      return base.run(cmd, args, o);
    },
  };
}
