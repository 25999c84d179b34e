/**
 * Echo replies in the output of `ping -D` (iputils): each line of a reply starts with the Unix time it was
 * received, e.g. `[1765150000.123456] 64 bytes from 10.2.1.2: icmp_seq=12 ttl=62 time=0.81 ms`. Errors
 * (`From … Destination Net Unreachable`) and the totals are not replies.
 */

export interface PingReply {
  /** When the reply was received (Unix epoch, ms, with the microseconds ping prints). */
  atMs: number;
  seq: number;
}

const REPLY = /^\[(\d+(?:\.\d+)?)\]\s+\d+ bytes from [^:]+: icmp_seq=(\d+)\s/;

/** The reply a line of `ping -D` reports, or undefined when it reports none. */
export function parsePingReply(line: string): PingReply | undefined {
  const m = REPLY.exec(line.trim());
  if (!m) return undefined;
  return { atMs: Number(m[1]) * 1000, seq: Number(m[2]) };
}
