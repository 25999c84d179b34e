import { describe, expect, it } from 'vitest';
import { probeStats } from './probe-stats.ts';

/** A probe at `pps` for `n` packets; `lost(seq)` decides which ones get no reply; replies take 0.5 ms. */
function record(n: number, pps: number, lost: (seq: number) => boolean) {
  const interval = 1000 / pps;
  const sendTimes = Array.from({ length: n }, (_, i) => 1000 + i * interval);
  const replyTimes = sendTimes.map((t, i) => (lost(i) ? undefined : t + 0.5));
  return { sendTimes, replyTimes, epochOffsetMs: 1_700_000_000_000, stoppedAt: 1000 + n * interval, pps };
}

describe('probe statistics', () => {
  it('a healthy path: no loss, the longest gap is one interval', () => {
    const r = probeStats(record(200, 100, () => false));
    expect(r).toMatchObject({ sent: 200, received: 200, lost: 0, lossWindows: [], pps: 100 });
    expect(r.longestGapMs).toBeCloseTo(10, 6);
    expect(r.rttMs).toEqual({ min: 0.5, avg: 0.5, p99: 0.5, max: 0.5 });
    expect(r.startedAt).toBe(1_700_000_001_000);
  });

  it('an outage of 30 packets: one window of 300 ms, a gap of 310 ms between replies', () => {
    const r = probeStats(record(200, 100, (s) => s >= 50 && s < 80));
    expect(r.lost).toBe(30);
    expect(r.received).toBe(170);
    expect(r.lossWindows).toEqual([{ from: 1_700_000_001_500, to: 1_700_000_001_800, ms: 300, packets: 30 }]);
    expect(r.longestGapMs).toBeCloseTo(310, 6);
  });

  it('several windows, and loss at the very end counts up to the last send', () => {
    const r = probeStats(record(100, 100, (s) => s === 10 || s === 11 || s >= 90));
    expect(r.lossWindows.map((w) => [w.packets, w.ms])).toEqual([
      [2, 20],
      [10, 100],
    ]);
    // Last reply: seq 89 at 1890.5; last send: seq 99 at 1990.
    expect(r.longestGapMs).toBeCloseTo(99.5, 6);
  });

  it('nothing answered: everything lost, the gap is the whole run', () => {
    const r = probeStats(record(50, 100, () => true));
    expect(r).toMatchObject({ sent: 50, received: 0, lost: 50, rttMs: undefined });
    expect(r.longestGapMs).toBeCloseTo(490, 6);
    expect(r.lossWindows).toHaveLength(1);
    expect(r.lossWindows[0]?.packets).toBe(50);
  });

  it('nothing sent: zeros', () => {
    const r = probeStats({ sendTimes: [], replyTimes: [], epochOffsetMs: 0, stoppedAt: 5, pps: 100 });
    expect(r).toMatchObject({ sent: 0, received: 0, lost: 0, longestGapMs: 0, lossWindows: [] });
  });
});
