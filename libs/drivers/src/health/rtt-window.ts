import type { RttStats } from '../types.ts';

/**
 * A sliding window over the last N probes: each probe is a reply with its RTT or a loss.
 * Statistics: min/avg/max and population standard deviation of the RTTs in the window, and the loss ratio.
 */
export class RttWindow {
  private readonly size: number;
  private readonly probes: { seq: number; rttMs: number | undefined }[] = [];
  private lastReplyAt: Date | undefined;
  private consecutiveLost = 0;

  constructor(size = 30) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`RTT window size ${size} must be a positive integer`);
    this.size = size;
  }

  /** Records a reply; a late reply for a probe already counted as lost turns it into a reply. */
  reply(seq: number, rttMs: number, at = new Date()): void {
    this.lastReplyAt = at;
    this.consecutiveLost = 0;
    const existing = this.probes.find((p) => p.seq === seq);
    if (existing) existing.rttMs = rttMs;
    else this.push({ seq, rttMs });
  }

  lost(seq: number): void {
    if (this.probes.some((p) => p.seq === seq)) return;
    this.consecutiveLost++;
    this.push({ seq, rttMs: undefined });
  }

  private push(p: { seq: number; rttMs: number | undefined }): void {
    this.probes.push(p);
    while (this.probes.length > this.size) this.probes.shift();
  }

  /** Probes lost in a row since the last reply. */
  get lostInARow(): number {
    return this.consecutiveLost;
  }

  get count(): number {
    return this.probes.length;
  }

  reset(): void {
    this.probes.length = 0;
    this.consecutiveLost = 0;
    this.lastReplyAt = undefined;
  }

  stats(): RttStats | undefined {
    if (this.probes.length === 0) return undefined;
    const rtts = this.probes.map((p) => p.rttMs).filter((r): r is number => r !== undefined);
    const loss = (this.probes.length - rtts.length) / this.probes.length;
    const lastReplyAt = this.lastReplyAt?.toISOString();
    if (rtts.length === 0) return { minMs: 0, avgMs: 0, maxMs: 0, stddevMs: 0, samples: 0, loss, lastReplyAt };
    const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
    const variance = rtts.reduce((a, b) => a + (b - avg) ** 2, 0) / rtts.length;
    const round = (n: number): number => Math.round(n * 1000) / 1000;
    return {
      minMs: round(Math.min(...rtts)),
      avgMs: round(avg),
      maxMs: round(Math.max(...rtts)),
      stddevMs: round(Math.sqrt(variance)),
      samples: rtts.length,
      loss: Math.round(loss * 1000) / 1000,
      lastReplyAt,
    };
  }
}
