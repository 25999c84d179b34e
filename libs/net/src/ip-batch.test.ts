import { describe, expect, it } from 'vitest';
import { NetCommandError } from './exec.ts';
import { NetBatchError, batchLine, runIpTransaction } from './ip-batch.ts';
import { RecordingRunner } from './recording-runner.ts';

describe('runIpTransaction', () => {
  const ops = [
    { args: ['route', 'add', '10.1.0.0/16', 'dev', 'a'], undo: ['route', 'del', '10.1.0.0/16', 'dev', 'a'] },
    { args: ['route', 'add', '10.2.0.0/16', 'dev', 'a'], undo: ['route', 'del', '10.2.0.0/16', 'dev', 'a'] },
    { args: ['route', 'add', '10.3.0.0/16', 'dev', 'nope'], undo: ['route', 'del', '10.3.0.0/16', 'dev', 'nope'] },
    { args: ['route', 'add', '10.4.0.0/16', 'dev', 'a'], undo: ['route', 'del', '10.4.0.0/16', 'dev', 'a'] },
  ];

  it('issues nothing for no ops and a plain command for one op', async () => {
    const rec = new RecordingRunner();
    await runIpTransaction(rec, 'n1', []);
    expect(rec.commands).toHaveLength(0);
    await runIpTransaction(rec, 'n1', ops.slice(0, 1));
    expect(rec.commands.map((c) => c.line)).toEqual(['ip route add 10.1.0.0/16 dev a (netns n1)']);
  });

  it('sends one batch without -force', async () => {
    const rec = new RecordingRunner();
    await runIpTransaction(rec, 'n1', ops);
    expect(rec.commands).toHaveLength(1);
    expect(rec.commands[0]?.args).toEqual(['-batch', '-']);
    expect(rec.commands[0]?.input).toBe(ops.map((o) => o.args.join(' ')).join('\n') + '\n');
  });

  it('stops at the failing line, undoes the applied prefix in reverse and names command, netns and kernel message', async () => {
    const rec = new RecordingRunner((_cmd, args) =>
      args.includes('-force') ? '' : { fail: 'Cannot find device "nope"\nCommand failed -:3\n', exitCode: 1 },
    );
    const err = await runIpTransaction(rec, 'gw-a', ops).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetBatchError);
    const be = err as NetBatchError;
    expect(be).toBeInstanceOf(NetCommandError);
    expect(be.message).toBe(
      'ip route add 10.3.0.0/16 dev nope (netns gw-a): Cannot find device "nope" (command 3 of 4 in one batch; rolled back 2 applied commands)',
    );
    expect(be.netns).toBe('gw-a');
    expect(be.stderr).toBe('Cannot find device "nope"');
    expect(be.failedIndex).toBe(2);
    expect(rec.commands[1]?.args).toEqual(['-force', '-batch', '-']);
    expect(rec.commands[1]?.input).toBe('route del 10.2.0.0/16 dev a\nroute del 10.1.0.0/16 dev a\n');
  });

  it('reports a failed rollback', async () => {
    const rec = new RecordingRunner((_cmd, args) =>
      args.includes('-force')
        ? { fail: 'RTNETLINK answers: No such process\nCommand failed -:1' }
        : { fail: 'RTNETLINK answers: File exists\nCommand failed -:2\n' },
    );
    await expect(runIpTransaction(rec, undefined, ops)).rejects.toThrow(/ROLLBACK FAILED: ip -force -batch -: RTNETLINK answers: No such process/);
  });

  it('quotes arguments with blanks and refuses quotes', () => {
    expect(batchLine(['link', 'set', 'x', 'alias', 'a b'])).toBe('link set x alias "a b"');
    expect(batchLine(['link', 'set', 'x', 'alias', ''])).toBe('link set x alias ""');
    expect(() => batchLine(['a"b'])).toThrow(/quote/);
  });
});
