import {
  NetCommandError,
  describeCommand,
  redactArgs,
  type Arg,
  type CommandRunner,
  type RunOptions,
  type RunResult,
} from './exec.ts';

/** One command as a {@link RecordingRunner} saw it. Secrets are already redacted. */
export interface RecordedCommand {
  readonly cmd: string;
  readonly args: readonly string[];
  readonly netns: string | undefined;
  /** stdin, unless marked secret (then `<redacted>`). */
  readonly input: string | undefined;
  /** `ip link add x (netns a)` */
  readonly line: string;
  /** Heuristic: the command changes kernel state (see {@link isWriteCommand}). */
  readonly write: boolean;
}

/** What a scripted handler returns: a result, a failure (stderr + exit code), or nothing (`''`). */
export type ScriptedReply = RunResult | { readonly fail: string; readonly exitCode?: number } | string | undefined;

export type ScriptedHandler = (cmd: string, args: readonly string[], opts: RunOptions) => ScriptedReply | Promise<ScriptedReply>;

const READ_SUBCOMMANDS = new Set(['show', 'list', 'ls', 'lst', 'get', 'help', 'identify', 'monitor']);

/**
 * Whether a command line changes kernel state: `ip ... show`, `nft list ...`, `sysctl -n k`,
 * `wg show` are reads; `ip ... add/del/replace`, `ip -batch`, `nft -f`, `sysctl -w` are writes.
 */
export function isWriteCommand(cmd: string, args: readonly string[]): boolean {
  const words = args.filter((a) => !a.startsWith('-'));
  switch (cmd) {
    case 'ip':
    case 'bridge': {
      if (args.includes('-batch') || args.includes('-b')) return true;
      if (words[0] === 'netns' && (words[1] === 'list' || words[1] === 'ls' || words[1] === undefined)) return false;
      if (words[0] === 'netns' && words[1] === 'exec') return true;
      const verb = words[1];
      return verb !== undefined && !READ_SUBCOMMANDS.has(verb);
    }
    case 'nft':
      if (args.includes('-f')) return true;
      return !READ_SUBCOMMANDS.has(words[0] ?? 'list');
    case 'sysctl':
      return args.includes('-w');
    case 'wg':
      return words[0] === 'set' || words[0] === 'setconf' || words[0] === 'addconf' || words[0] === 'syncconf';
    case 'cat':
    case 'true':
      return false;
    default:
      return true;
  }
}

/**
 * Records every command (for assertions such as "the second apply issued zero writes") and either
 * forwards it to an inner runner or answers it with a scripted handler.
 */
export class RecordingRunner implements CommandRunner {
  readonly commands: RecordedCommand[] = [];
  readonly #inner: CommandRunner | undefined;
  readonly #handler: ScriptedHandler | undefined;

  constructor(target?: CommandRunner | ScriptedHandler) {
    if (typeof target === 'function') {
      this.#handler = target;
      this.#inner = undefined;
    } else {
      this.#inner = target;
      this.#handler = undefined;
    }
  }

  get writes(): RecordedCommand[] {
    return this.commands.filter((c) => c.write);
  }

  get reads(): RecordedCommand[] {
    return this.commands.filter((c) => !c.write);
  }

  clear(): void {
    this.commands.length = 0;
  }

  async run(cmd: string, args: readonly Arg[], opts: RunOptions = {}): Promise<RunResult> {
    const shown = redactArgs(args);
    this.commands.push({
      cmd,
      args: shown,
      netns: opts.netns,
      input: opts.input === undefined ? undefined : opts.secretInput ? '<redacted>' : opts.input,
      line: describeCommand(cmd, args, opts.netns),
      write: isWriteCommand(cmd, shown),
    });
    if (this.#inner) return this.#inner.run(cmd, args, opts);
    const reply = this.#handler ? await this.#handler(cmd, shown, opts) : undefined;
    if (reply === undefined) return { stdout: '', stderr: '' };
    if (typeof reply === 'string') return { stdout: reply, stderr: '' };
    if ('fail' in reply) {
      throw new NetCommandError({
        command: cmd,
        args: shown,
        ...(opts.netns ? { netns: opts.netns } : {}),
        exitCode: reply.exitCode ?? 1,
        stderr: reply.fail,
      });
    }
    return reply;
  }
}
