import { NetCommandError, describeCommand, type CommandRunner } from './exec.ts';

/**
 * All-or-nothing changes with `ip -batch` / `bridge -batch`.
 *
 * The kernel has no transaction across netlink requests, so Strait makes a batch reversible
 * instead:
 *  1. every desired-state change is validated before anything runs (bad input changes nothing);
 *  2. each operation carries its inverse (`route add` ↔ `route del`, `route replace new` ↔
 *     `route replace old`, `link set mtu 1400` ↔ `link set mtu <old>`);
 *  3. the operations run in one `ip -batch -` WITHOUT `-force`, so iproute2 stops at the first
 *     failure and reports `Command failed -:<line>`;
 *  4. the inverses of the lines that succeeded run in reverse order (`ip -force -batch -`), and the
 *     error names the failed command, the namespace and the kernel's message.
 * Operations without an inverse (deleting a link loses its ifindex and addresses) are ordered last
 * by the callers, so a failure before them rolls back completely.
 */

export interface IpOp {
  /** Arguments of one `ip` (or `bridge`) command without the program name: `['route', 'add', ...]`. */
  readonly args: readonly string[];
  /**
   * The command that undoes it once it succeeded; `[]` when an earlier operation's inverse already
   * covers it (deleting a created link undoes setting its mtu); undefined when it cannot be undone.
   */
  readonly undo?: readonly string[] | undefined;
}

export type BatchTool = 'ip' | 'bridge';

/** A batch stopped at a failing command; what ran before it was rolled back. */
export class NetBatchError extends NetCommandError {
  /** 0-based index of the failed operation in the batch. */
  readonly failedIndex: number;
  readonly total: number;
  /** Operations that had succeeded and were undone. */
  readonly rolledBack: number;
  /** Operations that had succeeded but have no inverse (left applied). */
  readonly notUndoable: number;
  /** Set when the rollback itself failed (state may be partial). */
  readonly rollbackError: string | undefined;

  constructor(init: {
    tool: BatchTool;
    args: readonly string[];
    netns: string | undefined;
    exitCode: number | null;
    kernelMessage: string;
    failedIndex: number;
    total: number;
    rolledBack: number;
    notUndoable: number;
    rollbackError: string | undefined;
    lineKnown?: boolean;
  }) {
    const notes = [
      init.lineKnown === false
        ? `iproute2 stopped without naming the failed command of ${init.total}; all were undone best-effort`
        : `command ${init.failedIndex + 1} of ${init.total} in one batch`,
    ];
    if (init.rolledBack > 0) notes.push(`rolled back ${init.rolledBack} applied command${init.rolledBack === 1 ? '' : 's'}`);
    if (init.notUndoable > 0) notes.push(`${init.notUndoable} applied command(s) cannot be undone`);
    if (init.rollbackError) notes.push(`ROLLBACK FAILED: ${init.rollbackError}`);
    super({
      command: init.tool,
      args: init.args,
      ...(init.netns ? { netns: init.netns } : {}),
      exitCode: init.exitCode,
      stderr: init.kernelMessage,
      detail: `${init.kernelMessage || 'failed'} (${notes.join('; ')})`,
    });
    this.failedIndex = init.failedIndex;
    this.total = init.total;
    this.rolledBack = init.rolledBack;
    this.notUndoable = init.notUndoable;
    this.rollbackError = init.rollbackError;
  }
}

/** One batch line. iproute2 splits lines on blanks and honours double quotes (no escapes). */
export function batchLine(args: readonly string[]): string {
  return args
    .map((a) => {
      if (/["'\n\r\\]/.test(a)) {
        throw new Error(`batch argument ${JSON.stringify(a)} contains a quote, backslash or newline`);
      }
      return a === '' || /\s/.test(a) ? `"${a}"` : a;
    })
    .join(' ');
}

const FAILED_RE = /^Command failed (.*):(\d+)\s*$/m;

function kernelMessageOf(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !FAILED_RE.test(l))
    .join('; ');
}

/**
 * Runs `ops` as one all-or-nothing batch in `netns` (see the module comment). A single operation
 * runs as a plain command; no ops issue no command at all.
 */
export async function runIpTransaction(
  runner: CommandRunner,
  netns: string | undefined,
  ops: readonly IpOp[],
  tool: BatchTool = 'ip',
): Promise<void> {
  if (ops.length === 0) return;
  const opts = netns ? { netns } : {};
  if (ops.length === 1) {
    const op = ops[0] as IpOp;
    await runner.run(tool, op.args, opts);
    return;
  }
  const input = `${ops.map((o) => batchLine(o.args)).join('\n')}\n`;
  try {
    await runner.run(tool, ['-batch', '-'], { ...opts, input });
  } catch (e) {
    if (!(e instanceof NetCommandError)) throw e;
    const m = FAILED_RE.exec(e.stderr);
    // Without "Command failed -:<line>" iproute2 exited from inside a command (some argument
    // errors call exit()) or was killed: any prefix may have run. Undo all of them best-effort
    // (inverses of commands that never ran fail harmlessly under -force, so their errors are
    // not a rollback failure).
    const known = m !== null;
    const failedIndex = known ? Math.min(Math.max(Number(m[2]) - 1, 0), ops.length - 1) : ops.length - 1;
    const appliedCount = known ? failedIndex : ops.length;
    const applied = ops.slice(0, appliedCount);
    const undoable = applied.filter((o) => o.undo !== undefined);
    const notUndoable = applied.length - undoable.length;
    let rollbackError: string | undefined;
    if (undoable.length > 0) {
      const undoLines = undoable
        .filter((o) => (o.undo as readonly string[]).length > 0)
        .map((o) => batchLine(o.undo as readonly string[]))
        .reverse();
      if (undoLines.length > 0) {
        try {
          await runner.run(tool, ['-force', '-batch', '-'], { ...opts, input: `${undoLines.join('\n')}\n` });
        } catch (re) {
          if (known) rollbackError = re instanceof Error ? re.message : String(re);
        }
      }
    }
    const failed = ops[failedIndex] as IpOp;
    throw new NetBatchError({
      tool,
      args: known ? failed.args : ['-batch', '-'],
      netns,
      exitCode: e.exitCode,
      kernelMessage: known ? kernelMessageOf(e.stderr) : kernelMessageOf(e.stderr) || e.message,
      lineKnown: known,
      failedIndex,
      total: ops.length,
      rolledBack: undoable.length,
      notUndoable,
      rollbackError,
    });
  }
}

/** `ip route add ... (netns x)` for a batch op, for plan descriptions and logs. */
export function describeOp(op: IpOp, netns?: string, tool: BatchTool = 'ip'): string {
  return describeCommand(tool, op.args, netns);
}
