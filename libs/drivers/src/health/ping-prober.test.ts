import { describe, expect, it } from 'vitest';
import type { Prober } from './ping-prober.ts';
import { parsePingLine } from './ping-prober.ts';
import { applyHealth } from './verdict.ts';

describe('ping output parsing', () => {
  it('reads replies, timeouts and ICMP errors', () => {
    expect(parsePingLine('64 bytes from 10.2.0.1: icmp_seq=12 ttl=63 time=0.412 ms')).toEqual({ kind: 'reply', seq: 12, rttMs: 0.412 });
    expect(parsePingLine('64 bytes from 10.2.0.1: icmp_seq=3 ttl=64 time=12 ms')).toEqual({ kind: 'reply', seq: 3, rttMs: 12 });
    expect(parsePingLine('no answer yet for icmp_seq=7')).toEqual({ kind: 'lost', seq: 7 });
    expect(parsePingLine('From 10.1.0.1 icmp_seq=9 Destination Host Unreachable')).toEqual({ kind: 'lost', seq: 9 });
    expect(parsePingLine('PING 10.2.0.1 (10.2.0.1) from 10.1.0.1 : 56(84) bytes of data.')).toBeUndefined();
  });
});

describe('health verdict', () => {
  const prober = (lostInARow: number, everReplied: boolean): Prober => ({ start: () => undefined, stop: () => undefined, stats: () => undefined, lostInARow, everReplied });
  const up = { state: 'Connected' as const, message: 'handshake 3 s ago' };

  it('keeps the tunnel verdict without a prober or when the tunnel is not up', () => {
    expect(applyHealth(up, undefined, undefined, 5)).toEqual(up);
    expect(applyHealth({ state: 'Connecting', message: 'x' }, prober(9, false), '10.2.0.1', 5).state).toBe('Connecting');
  });

  it('waits for the first reply, then demotes on consecutive loss', () => {
    expect(applyHealth(up, prober(0, false), '10.2.0.1', 5).state).toBe('Connecting');
    expect(applyHealth(up, prober(4, true), '10.2.0.1', 5).state).toBe('Connected');
    const err = applyHealth(up, prober(5, true), '10.2.0.1', 5);
    expect(err).toEqual({ state: 'Error', message: 'handshake 3 s ago; but 5 health probes to 10.2.0.1 lost in a row' });
  });
});
