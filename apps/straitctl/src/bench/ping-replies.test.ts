import { describe, expect, it } from 'vitest';
import { parsePingReply } from './ping-replies.ts';

describe('parsePingReply', () => {
  it('reads the receive time and sequence number of a reply', () => {
    expect(parsePingReply('[1765150000.123456] 64 bytes from 10.2.1.2: icmp_seq=12 ttl=62 time=0.81 ms')).toEqual({ atMs: 1765150000123.456, seq: 12 });
    expect(parsePingReply('  [1765150001.5] 64 bytes from 10.2.1.2: icmp_seq=7 ttl=62 time=1.2 ms\n')).toEqual({ atMs: 1765150001500, seq: 7 });
  });

  it('ignores errors, the header and the totals', () => {
    for (const line of [
      'PING 10.2.1.2 (10.2.1.2) 56(84) bytes of data.',
      '[1765150000.123456] From 10.1.0.1 icmp_seq=3 Destination Net Unreachable',
      '64 bytes from 10.2.1.2: icmp_seq=1 ttl=62 time=0.81 ms',
      '10 packets transmitted, 3 received, 70% packet loss, time 90ms',
      '',
    ]) {
      expect(parsePingReply(line)).toBeUndefined();
    }
  });
});
