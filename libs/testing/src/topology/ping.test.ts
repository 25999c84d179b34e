import { describe, expect, it } from 'vitest';
import { parsePing, pingArgs } from './ping.ts';

describe('ping', () => {
  it('builds quiet, numeric, bounded arguments', () => {
    expect(pingArgs('10.0.0.2')).toEqual(['-n', '-q', '-c', '3', '-i', '0.2', '-W', '1', '-w', '3', '10.0.0.2']);
    expect(pingArgs('10.0.0.2', { count: 10, intervalMs: 10, timeoutMs: 500 })).toEqual(['-n', '-q', '-c', '10', '-i', '0.01', '-W', '0.5', '-w', '2', '10.0.0.2']);
    expect(() => pingArgs('x', { count: 0 })).toThrow(/count 0/);
    expect(() => pingArgs('x', { intervalMs: 1 })).toThrow(/intervalMs 1/);
  });

  it('parses replies and round-trip times', () => {
    const out = `PING 10.0.2.2 (10.0.2.2) 56(84) bytes of data.

--- 10.0.2.2 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 41ms
rtt min/avg/max/mdev = 0.055/0.071/0.093/0.016 ms
`;
    expect(parsePing('10.0.2.2', out, 0)).toEqual({
      target: '10.0.2.2',
      transmitted: 3,
      received: 3,
      errors: 0,
      lossPct: 0,
      rttMs: { min: 0.055, avg: 0.071, max: 0.093 },
      exitCode: 0,
      problems: [],
    });
  });

  it('reads ICMP errors and local failures as "no reply", not as exceptions', () => {
    const unreachable = `PING 10.1.0.2 (10.1.0.2) 56(84) bytes of data.
From 10.0.0.1 icmp_seq=1 Destination Net Unreachable

--- 10.1.0.2 ping statistics ---
2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1ms
`;
    const r = parsePing('10.1.0.2', unreachable, 1);
    expect(r).toMatchObject({ transmitted: 2, received: 0, errors: 2, lossPct: 100, rttMs: undefined, exitCode: 1 });
    expect(r.problems).toEqual(['From 10.0.0.1 icmp_seq=1 Destination Net Unreachable']);
    const local = parsePing('10.1.0.2', 'ping: connect: Network is unreachable\n', 2);
    expect(local).toMatchObject({ transmitted: 0, received: 0, lossPct: 100, exitCode: 2, problems: ['ping: connect: Network is unreachable'] });
  });
});
