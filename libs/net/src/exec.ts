import { spawn } from 'node:child_process';

/**
 * Running the kernel tools (`ip`, `nft`, `sysctl`, `wg`, `swanctl`, ...) without a shell.
 *
 * Every port in `@strait/net` talks to the kernel through a {@link CommandRunner}, so each one can
 * be faked (see `fake/`) or recorded (see `recording-runner.ts`) in unit tests.
 *
 * Namespaces: `ip` itself is given `-n <netns>` (no mount-namespace setup, much cheaper); every
 * other command runs as `ip netns exec <netns> <cmd> ...`. Errors always name the logical command
 * (`ip link add ...`), the namespace and the tool's own message.
 */

/** An argument whose value must never appear in an error message, a log line or a recording. */
export interface SecretArg {
  readonly secret: string;
}

/** Marks a command argument as secret: it is passed to the command but shown as `<redacted>`. */
export function secret(value: string): SecretArg {
  return Object.freeze({ secret: value });
}

export type Arg = string | SecretArg;

export const REDACTED = '<redacted>';

export interface RunOptions {
  /** Network namespace to run in (by name, as in `ip netns list`). Omitted: the caller's namespace. */
  readonly netns?: string;
  /** Written to the command's stdin (then closed). */
  readonly input?: string;
  /** `input` carries a secret (a key, a PSK): never recorded or shown. */
  readonly secretInput?: boolean;
  /** Kill the command after this many milliseconds (default 30 000). */
  readonly timeoutMs?: number;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** The one way `@strait/net` runs a command. Implementations: {@link execRunner}, fakes, recorders. */
export interface CommandRunner {
  run(cmd: string, args: readonly Arg[], opts?: RunOptions): Promise<RunResult>;
}

export function isSecretArg(a: Arg): a is SecretArg {
  return typeof a === 'object' && a !== null && typeof (a as SecretArg).secret === 'string';
}

/** Argument values as passed to the process. */
export function revealArgs(args: readonly Arg[]): string[] {
  return args.map((a) => (isSecretArg(a) ? a.secret : a));
}

/** Argument values safe to show: secrets replaced by `<redacted>`. */
export function redactArgs(args: readonly Arg[]): string[] {
  return args.map((a) => (isSecretArg(a) ? REDACTED : a));
}

/** Replaces every occurrence of a secret argument's value in `text` (a tool may echo its input). */
export function redactText(text: string, args: readonly Arg[], input?: string): string {
  let out = text;
  const values = args.filter(isSecretArg).map((a) => a.secret);
  if (input !== undefined) values.push(input.trim());
  for (const v of values) {
    if (v.length >= 4) out = out.split(v).join(REDACTED);
  }
  return out;
}

/** `ip link add x (netns gw-a)` — the command line as shown in errors and logs. */
export function describeCommand(cmd: string, args: readonly Arg[], netns?: string): string {
  const shown = [cmd, ...redactArgs(args).map(quoteForDisplay)].join(' ');
  return netns ? `${shown} (netns ${netns})` : shown;
}

function quoteForDisplay(a: string): string {
  return a === '' || /[\s"'\\]/.test(a) ? JSON.stringify(a) : a;
}

export interface NetCommandErrorInit {
  readonly command: string;
  readonly args: readonly string[];
  readonly netns?: string;
  readonly exitCode: number | null;
  readonly signal?: string | null;
  readonly stderr: string;
  readonly timedOut?: boolean;
  readonly detail?: string;
  readonly cause?: unknown;
}

/**
 * A kernel tool failed. `args` are already redacted. The message reads
 * `ip link add a type veth peer name b (netns gw-a): RTNETLINK answers: File exists`.
 */
export class NetCommandError extends Error {
  override readonly name = 'NetCommandError';
  readonly command: string;
  readonly args: readonly string[];
  readonly netns: string | undefined;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderr: string;
  readonly timedOut: boolean;

  constructor(init: NetCommandErrorInit) {
    const where = describeCommand(init.command, init.args, init.netns);
    const why =
      init.detail ??
      (init.timedOut
        ? 'timed out'
        : firstLines(init.stderr) ||
          (init.signal ? `killed by ${init.signal}` : `exit code ${String(init.exitCode)}`));
    super(`${where}: ${why}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.command = init.command;
    this.args = init.args;
    this.netns = init.netns;
    this.exitCode = init.exitCode;
    this.signal = init.signal ?? null;
    this.stderr = init.stderr;
    this.timedOut = init.timedOut ?? false;
  }
}

function firstLines(s: string, max = 5): string {
  const lines = s
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0);
  const head = lines.slice(0, max).join('; ');
  return lines.length > max ? `${head}; ... (${lines.length - max} more lines)` : head;
}

const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

function envWithSbin(): NodeJS.ProcessEnv {
  const path = process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin';
  const parts = path.split(':');
  for (const d of SBIN) if (!parts.includes(d)) parts.push(d);
  // LC_ALL=C: kernel/tool messages are matched on (e.g. "File exists"); keep them in English.
  return { ...process.env, PATH: parts.join(':'), LC_ALL: 'C' };
}

export interface ExecRunnerOptions {
  /** Default timeout for commands without `timeoutMs` (ms). */
  readonly defaultTimeoutMs?: number;
  /** Largest stdout accepted (bytes); `nft -j list` of a big map can be a few MB. */
  readonly maxBufferBytes?: number;
}

/** The argv actually spawned for `cmd args` in `netns`. */
export function spawnArgv(cmd: string, args: readonly string[], netns?: string): [string, string[]] {
  if (!netns) return [cmd, [...args]];
  if (cmd === 'ip') return ['ip', ['-n', netns, ...args]];
  return ['ip', ['netns', 'exec', netns, cmd, ...args]];
}

/** The real runner: spawns the command (no shell), in `netns` when given. */
export function execRunner(options: ExecRunnerOptions = {}): CommandRunner {
  const defaultTimeout = options.defaultTimeoutMs ?? 30_000;
  const maxBuffer = options.maxBufferBytes ?? 256 * 1024 * 1024;
  const env = envWithSbin();
  return {
    run(cmd, args, opts = {}) {
      const shownArgs = redactArgs(args);
      const [file, argv] = spawnArgv(cmd, revealArgs(args), opts.netns);
      const timeoutMs = opts.timeoutMs ?? defaultTimeout;
      return new Promise<RunResult>((resolve, reject) => {
        const fail = (init: Omit<NetCommandErrorInit, 'command' | 'args' | 'netns'>): void =>
          reject(
            new NetCommandError({
              command: cmd,
              args: shownArgs,
              ...(opts.netns ? { netns: opts.netns } : {}),
              ...init,
              stderr: redactText(init.stderr, args, opts.secretInput ? opts.input : undefined),
            }),
          );
        let child;
        try {
          child = spawn(file, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
        } catch (e) {
          fail({ exitCode: null, stderr: '', detail: (e as Error).message, cause: e });
          return;
        }
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let outBytes = 0;
        let overflow = false;
        let timedOut = false;
        let settled = false;
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, timeoutMs);
        child.stdout.on('data', (b: Buffer) => {
          outBytes += b.length;
          if (outBytes > maxBuffer) {
            overflow = true;
            child.kill('SIGKILL');
            return;
          }
          out.push(b);
        });
        child.stderr.on('data', (b: Buffer) => err.push(b));
        child.on('error', (e: NodeJS.ErrnoException) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const detail = e.code === 'ENOENT' ? `command not found: ${file}` : e.message;
          fail({ exitCode: null, stderr: Buffer.concat(err).toString('utf8'), detail, cause: e });
        });
        child.on('close', (code, signal) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const stdout = Buffer.concat(out).toString('utf8');
          const stderr = Buffer.concat(err).toString('utf8');
          if (overflow) {
            fail({ exitCode: code, signal, stderr, detail: `output larger than ${maxBuffer} bytes` });
          } else if (timedOut) {
            fail({ exitCode: code, signal, stderr, timedOut: true, detail: `timed out after ${timeoutMs} ms` });
          } else if (code !== 0) {
            fail({ exitCode: code, signal, stderr });
          } else {
            resolve({ stdout, stderr });
          }
        });
        // A command that exits without reading stdin closes the pipe: ignore EPIPE here, the
        // exit code tells the story.
        child.stdin.on('error', () => undefined);
        child.stdin.end(opts.input ?? '');
      });
    },
  };
}

let defaultRunner: CommandRunner | undefined;

/** A shared {@link execRunner} with default options. */
export function defaultCommandRunner(): CommandRunner {
  defaultRunner ??= execRunner();
  return defaultRunner;
}

/** Runs a command with the shared real runner. */
export function run(cmd: string, args: readonly Arg[], opts?: RunOptions): Promise<RunResult> {
  return defaultCommandRunner().run(cmd, args, opts);
}

/** Error for output a tool produced that is not what Strait expects (bad JSON, wrong shape). */
export class NetOutputError extends Error {
  override readonly name = 'NetOutputError';
  readonly command: string;
  readonly netns: string | undefined;
  constructor(command: string, netns: string | undefined, problem: string, cause?: unknown) {
    super(`${netns ? `${command} (netns ${netns})` : command}: ${problem}`, cause === undefined ? undefined : { cause });
    this.command = command;
    this.netns = netns;
  }
}

/**
 * Runs a command that prints JSON and parses it. Empty output parses as `emptyAs` (default `[]`,
 * what `ip -j` prints for "nothing"). Malformed JSON throws {@link NetOutputError} naming the command.
 * Validation of the shape is the caller's job (see `validate.ts`).
 */
export async function runJson<T = unknown>(
  runner: CommandRunner,
  cmd: string,
  args: readonly Arg[],
  opts?: RunOptions & { emptyAs?: unknown },
): Promise<T> {
  const { stdout } = await runner.run(cmd, args, opts);
  return parseJsonOutput<T>(stdout, describeCommand(cmd, args), opts?.netns, opts?.emptyAs ?? []);
}

export function parseJsonOutput<T>(stdout: string, command: string, netns: string | undefined, emptyAs: unknown): T {
  const text = stdout.trim();
  if (text === '') return emptyAs as T;
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    const snippet = text.length > 120 ? `${text.slice(0, 120)}...` : text;
    throw new NetOutputError(command, netns, `malformed JSON output (${(e as Error).message}): ${snippet}`, e);
  }
}
