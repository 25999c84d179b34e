import { describe, expect, it } from 'vitest';
import {
  NetCommandError,
  NetOutputError,
  describeCommand,
  execRunner,
  parseJsonOutput,
  runJson,
  secret,
  spawnArgv,
} from './exec.ts';
import { RecordingRunner, isWriteCommand } from './recording-runner.ts';

describe('exec', () => {
  it('runs ip via -n and other tools via ip netns exec', () => {
    expect(spawnArgv('ip', ['link', 'show'], 'gw-a')).toEqual(['ip', ['-n', 'gw-a', 'link', 'show']]);
    expect(spawnArgv('nft', ['-j', 'list', 'tables'], 'gw-a')).toEqual([
      'ip',
      ['netns', 'exec', 'gw-a', 'nft', '-j', 'list', 'tables'],
    ]);
    expect(spawnArgv('nft', ['list', 'tables'])).toEqual(['nft', ['list', 'tables']]);
  });

  it('names command, netns and stderr in the error and redacts secret args', () => {
    const e = new NetCommandError({
      command: 'ip',
      args: ['link', 'add', 'a', 'type', 'dummy'],
      netns: 'gw-a',
      exitCode: 2,
      stderr: 'RTNETLINK answers: File exists\n',
    });
    expect(e.message).toBe('ip link add a type dummy (netns gw-a): RTNETLINK answers: File exists');
    expect(describeCommand('wg', ['set', 'wg0', 'private-key', secret('c2VjcmV0a2V5')])).toBe(
      'wg set wg0 private-key <redacted>',
    );
  });

  it('real runner: success, stdin, failure with exit code and stderr, secrets redacted from stderr', async () => {
    const r = execRunner();
    expect((await r.run('cat', [], { input: 'hello' })).stdout).toBe('hello');
    const err = await r
      .run('sh', ['-c', 'echo "bad key $0" >&2; exit 3', secret('topsecretvalue')])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetCommandError);
    const ne = err as NetCommandError;
    expect(ne.exitCode).toBe(3);
    expect(ne.args).toEqual(['-c', 'echo "bad key $0" >&2; exit 3', '<redacted>']);
    expect(ne.stderr).toBe('bad key <redacted>\n');
    expect(ne.message).not.toContain('topsecretvalue');
  });

  it('real runner: missing command and timeout', async () => {
    const r = execRunner();
    await expect(r.run('strait-no-such-command', ['x'])).rejects.toThrow(
      /strait-no-such-command x: command not found/,
    );
    await expect(r.run('sleep', ['5'], { timeoutMs: 50 })).rejects.toThrow(/sleep 5: timed out after 50 ms/);
  });

  it('runJson parses, treats empty as [] and rejects malformed JSON clearly', async () => {
    const rec = new RecordingRunner((_c, args) => (args[0] === 'bad' ? '[{"ifname": ' : args[0] === 'empty' ? '' : '[1,2]'));
    expect(await runJson(rec, 'ip', ['ok'])).toEqual([1, 2]);
    expect(await runJson(rec, 'ip', ['empty'])).toEqual([]);
    await expect(runJson(rec, 'ip', ['bad'], { netns: 'n1' })).rejects.toThrow(NetOutputError);
    await expect(runJson(rec, 'ip', ['bad'], { netns: 'n1' })).rejects.toThrow(/^ip bad \(netns n1\): malformed JSON output/);
    expect(() => parseJsonOutput('nope', 'nft -j list tables', undefined, [])).toThrow(/nft -j list tables: malformed JSON/);
  });

  it('classifies reads and writes', () => {
    expect(isWriteCommand('ip', ['-j', 'link', 'show'])).toBe(false);
    expect(isWriteCommand('ip', ['-j', 'route', 'show', 'table', 'all'])).toBe(false);
    expect(isWriteCommand('ip', ['link', 'add', 'x', 'type', 'dummy'])).toBe(true);
    expect(isWriteCommand('ip', ['-batch', '-'])).toBe(true);
    expect(isWriteCommand('ip', ['netns', 'list'])).toBe(false);
    expect(isWriteCommand('nft', ['-j', 'list', 'table', 'inet', 'strait'])).toBe(false);
    expect(isWriteCommand('nft', ['-f', '-'])).toBe(true);
    expect(isWriteCommand('sysctl', ['-n', 'net.ipv4.ip_forward'])).toBe(false);
    expect(isWriteCommand('sysctl', ['-w', 'net.ipv4.ip_forward=1'])).toBe(true);
  });

  it('recording runner records secrets redacted and scripted failures', async () => {
    const rec = new RecordingRunner(() => ({ fail: 'RTNETLINK answers: No such device', exitCode: 2 }));
    await expect(rec.run('ip', ['route', 'add', '10.0.0.0/8', 'dev', 'nope'], { netns: 'x' })).rejects.toThrow(
      'ip route add 10.0.0.0/8 dev nope (netns x): RTNETLINK answers: No such device',
    );
    await rec.run('wg', ['set', 'wg0', 'private-key', '/dev/stdin'], { input: 'KEY', secretInput: true }).catch(() => undefined);
    expect(rec.commands[1]?.input).toBe('<redacted>');
    expect(rec.writes).toHaveLength(2);
  });
});
