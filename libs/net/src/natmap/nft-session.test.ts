import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NetCommandError, type CommandRunner } from '../exec.ts';
import { NftSession, sessionRunner, type ChildLike, type NamespaceIdentity } from './nft-session.ts';

/**
 * A stand-in for `nft -i`: reads lines, answers the marker with nft's syntax error, fails lines
 * containing FAIL like a refused transaction, never answers HANG, exits on EXIT.
 */
class FakeNft extends EventEmitter implements ChildLike {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly lines: string[] = [];
  readonly pid: number;
  killed: NodeJS.Signals | undefined;
  #buf = '';
  #hung = false;

  constructor(pid: number) {
    super();
    this.pid = pid;
    this.stdin.on('data', (b: Buffer) => {
      this.#buf += b.toString();
      let i: number;
      while ((i = this.#buf.indexOf('\n')) >= 0) {
        const line = this.#buf.slice(0, i);
        this.#buf = this.#buf.slice(i + 1);
        this.#line(line);
      }
    });
    this.stdin.on('finish', () => this.#exit(0, null));
  }

  #line(line: string): void {
    if (this.#hung) return;
    this.lines.push(line);
    if (/^strait_sync_\d+$/.test(line)) {
      // split over two chunks, as a pipe may deliver it
      this.stderr.write(`Error: syntax error, unexpected newline, expecting string\n${line}\n`);
      setImmediate(() => this.stderr.write(`${' '.repeat(line.length)}^\n`));
    } else if (line.includes('FAIL')) {
      this.stderr.write(`Error: Could not process rule: No such file or directory\n${line}\n${'^'.repeat(5)}\n`);
    } else if (line === 'add element inet t m { HANG }') {
      this.#hung = true;
    } else if (line === 'add element inet t m { EXIT }') {
      this.stderr.write('nft: fatal\n');
      this.#exit(1, null);
    }
  }

  #exit(code: number | null, signal: NodeJS.Signals | null): void {
    setImmediate(() => this.emit('exit', code, signal));
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    this.killed = signal;
    this.#exit(null, signal);
    return true;
  }
}

function harness(opts: { identity?: NamespaceIdentity | false; timeoutMs?: number } = {}) {
  const children: FakeNft[] = [];
  const session = new NftSession({
    netns: 'gw',
    timeoutMs: opts.timeoutMs ?? 2000,
    identity: opts.identity ?? false,
    spawn: () => {
      const c = new FakeNft(1000 + children.length);
      children.push(c);
      return c;
    },
  });
  return { session, children };
}

describe('NftSession', () => {
  it('sends one transaction as one line, then a marker; reuses the process', async () => {
    const { session, children } = harness();
    await session.run('delete element inet t m { 10.0.0.1 }\nadd element inet t m { 10.0.0.1 : 10.1.0.1 }\n');
    await session.run('add element inet t m { 10.0.0.2 : 10.1.0.2 }\n');
    expect(children).toHaveLength(1);
    expect(children[0]?.lines).toEqual([
      'strait_sync_1',
      'delete element inet t m { 10.0.0.1 } ; add element inet t m { 10.0.0.1 : 10.1.0.1 }',
      'strait_sync_2',
      'add element inet t m { 10.0.0.2 : 10.1.0.2 }',
      'strait_sync_3',
    ]);
    await session.close();
    expect(children[0]?.killed).toBeUndefined(); // stdin closed, exited by itself
  });

  it("rejects a refused transaction with nft's message and keeps going", async () => {
    const { session, children } = harness();
    const err = await session.run('delete element inet t m { FAIL }').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetCommandError);
    expect((err as Error).message).toMatch(/^nft -i \(netns gw\): Error: Could not process rule: No such file or directory; delete element inet t m \{ FAIL \}/);
    await session.run('add element inet t m { 10.0.0.3 : 10.1.0.3 }');
    expect(children).toHaveLength(1);
    await session.close();
  });

  it('serialises concurrent calls', async () => {
    const { session, children } = harness();
    await Promise.all([1, 2, 3, 4].map((i) => session.run(`add element inet t m { 10.0.0.${i} : 10.1.0.${i} }`)));
    expect(children[0]?.lines.filter((l) => l.startsWith('add'))).toEqual([1, 2, 3, 4].map((i) => `add element inet t m { 10.0.0.${i} : 10.1.0.${i} }`));
    await session.close();
  });

  it('restarts after the process exits or hangs', async () => {
    const { session, children } = harness({ timeoutMs: 200 });
    await expect(session.run('add element inet t m { EXIT }')).rejects.toThrow(/nft -i exited with code 1/);
    await session.run('add element inet t m { 10.0.0.4 : 10.1.0.4 }');
    expect(children).toHaveLength(2);
    await expect(session.run('add element inet t m { HANG }')).rejects.toThrow(/no answer from nft -i within 200 ms/);
    expect(children[1]?.killed).toBe('SIGKILL');
    await session.run('add element inet t m { 10.0.0.5 : 10.1.0.5 }');
    expect(children).toHaveLength(3);
    await session.close();
  });

  it('starts a new process when the namespace was re-created, and refuses a process outside it', async () => {
    let target = '4:100';
    const where = new Map<number, string>();
    const identity: NamespaceIdentity = { target: () => target, ofProcess: (pid) => where.get(pid) ?? target };
    const { session, children } = harness({ identity });
    await session.run('add element inet t m { 10.0.0.6 : 10.1.0.6 }');
    target = '4:200';
    await session.run('add element inet t m { 10.0.0.7 : 10.1.0.7 }');
    expect(children).toHaveLength(2);
    expect(children[0]?.killed).toBe('SIGKILL');
    where.set(1002, '4:1');
    target = '4:300';
    await expect(session.run('add element inet t m { 10.0.0.8 : 10.1.0.8 }')).rejects.toThrow(/did not enter the namespace/);
    await session.close();
  });

  it('refuses lines with "#" and runs nothing after close', async () => {
    const { session } = harness();
    await expect(session.run('add element inet t m { 1 } # x')).rejects.toThrow(/"#"/);
    await session.close();
    await expect(session.run('add element inet t m { 10.0.0.9 : 10.1.0.9 }')).rejects.toThrow(/closed/);
  });
});

describe('sessionRunner', () => {
  it('routes small element-only scripts of its namespace to the session, the rest to the base runner', async () => {
    const { session, children } = harness();
    const calls: string[] = [];
    const base: CommandRunner = {
      run: async (cmd, args, o) => {
        calls.push(`${cmd} ${args.join(' ')} @${o?.netns ?? ''}`);
        return { stdout: '', stderr: '' };
      },
    };
    const r = sessionRunner(base, session, { maxInputBytes: 200 });
    await r.run('nft', ['-f', '-'], { netns: 'gw', input: 'add element inet t m { 10.0.0.1 : 10.1.0.1 }\n' });
    await r.run('nft', ['-f', '-'], { netns: 'other', input: 'add element inet t m { 10.0.0.1 : 10.1.0.1 }\n' });
    await r.run('nft', ['-f', '-'], { netns: 'gw', input: 'add table inet t\n' });
    await r.run('nft', ['-f', '-'], { netns: 'gw', input: `add element inet t m { ${'10.0.0.1 : 10.1.0.1, '.repeat(20)}10.0.0.2 : 10.1.0.1 }\n` });
    await r.run('nft', ['-j', 'list', 'table', 'inet', 't'], { netns: 'gw' });
    expect(children[0]?.lines.filter((l) => !l.startsWith('strait_sync'))).toEqual(['add element inet t m { 10.0.0.1 : 10.1.0.1 }']);
    expect(calls).toEqual(['nft -f - @other', 'nft -f - @gw', 'nft -f - @gw', 'nft -j list table inet t @gw']);
    await session.close();
  });
});
