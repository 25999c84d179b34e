import { HOST } from './apply-report.ts';
import { describe, expect, it } from 'vitest';
import { FakeNetwork } from './fake/fake-network.ts';
import { RecordingRunner } from './recording-runner.ts';
import { ProcSysctl, confKey, sysctlKey } from './sysctl.ts';

describe('sysctl', () => {
  it('normalizes keys (slashes, for interface names with dots)', () => {
    expect(sysctlKey('net.ipv4.ip_forward')).toBe('net/ipv4/ip_forward');
    expect(confKey(4, 'strait.host', 'rp_filter')).toBe('net/ipv4/conf/strait.host/rp_filter');
    expect(() => sysctlKey('kernel.panic')).toThrow('Strait only sets net.* keys');
    expect(() => sysctlKey('net/ipv4/../x')).toThrow('segment');
  });

  it('reads in one command and writes only what differs, in one command', async () => {
    const rec = new RecordingRunner((_c, args) => (args[0] === '-n' ? '1\n0\n' : ''));
    const r = await new ProcSysctl(rec).apply('gw', { 'net.ipv4.ip_forward': 1, [confKey(4, 'strait.gw', 'rp_filter')]: 2 });
    expect(r).toMatchObject({ changed: 1, unchanged: 1, writes: 1 });
    expect(rec.commands.map((c) => c.line)).toEqual([
      'sysctl -n net/ipv4/ip_forward net/ipv4/conf/strait.gw/rp_filter (netns gw)',
      'sysctl -w net/ipv4/conf/strait.gw/rp_filter=2 (netns gw)',
    ]);
  });

  it('zero writes when equal; a failed write restores the keys already written', async () => {
    const rec = new RecordingRunner((_c, args) => (args[0] === '-n' ? '1\n' : ''));
    expect((await new ProcSysctl(rec).apply('gw', { 'net.ipv4.ip_forward': '1' })).writes).toBe(0);
    let values = ['0', '0'];
    const failing = new RecordingRunner((_c, args) => {
      if (args[0] === '-n') return `${values.join('\n')}\n`;
      if (args.some((a) => a.includes('nope'))) {
        values = ['1', '0'];
        return { fail: 'sysctl: cannot stat /proc/sys/net/ipv4/conf/nope/rp_filter: No such file or directory', exitCode: 255 };
      }
      return '';
    });
    await expect(new ProcSysctl(failing).apply('gw', { 'net.ipv4.ip_forward': 1, 'net/ipv4/conf/nope/rp_filter': 1 })).rejects.toThrow(
      'sysctl -w net/ipv4/ip_forward=1 net/ipv4/conf/nope/rp_filter=1 (netns gw): sysctl: cannot stat',
    );
    expect(failing.commands.at(-1)?.line).toBe('sysctl -w net/ipv4/ip_forward=0 (netns gw)');
  });

  it('fake', async () => {
    const net = new FakeNetwork();
    await net.sysctl.apply(HOST, { 'net.ipv4.ip_forward': 1 });
    expect((await net.sysctl.apply(HOST, { 'net.ipv4.ip_forward': 1 })).writes).toBe(0);
  });
});
