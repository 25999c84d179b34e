/**
 * Loss figures of a sequence-numbered probe (pure; used by udp-probe.ts and its unit test).
 *
 * Times are milliseconds on one monotonic clock (performance.now() of the probe process);
 * `epochOffsetMs` converts them to wall-clock milliseconds (Date.now() scale) for the loss windows, so
 * they can be lined up with events of the test (a link set down, a gateway killed).
 */

export interface LossWindow {
  /** Wall-clock ms when the first unanswered probe was sent. */
  readonly from: number;
  /** Wall-clock ms when the next answered probe was sent (or the probe stopped). */
  readonly to: number;
  readonly ms: number;
  /** Unanswered probes in the window. */
  readonly packets: number;
}

export interface ProbeResult {
  readonly sent: number;
  readonly received: number;
  readonly lost: number;
  /**
   * Longest time without a reply: the largest gap between consecutive reply arrivals, counting the
   * first send and the last send as boundaries (a path that breaks at the end still shows its gap).
   */
  readonly longestGapMs: number;
  readonly lossWindows: readonly LossWindow[];
  /** Round-trip times of the answered probes (undefined when none was answered). */
  readonly rttMs: { readonly min: number; readonly avg: number; readonly p99: number; readonly max: number } | undefined;
  /** Wall-clock ms of the first send and the stop. */
  readonly startedAt: number;
  readonly stoppedAt: number;
  readonly pps: number;
}

export interface ProbeRecord {
  /** Send time of each sequence number (index = seq). */
  readonly sendTimes: readonly number[];
  /** Arrival time of the first reply for each seq, undefined when unanswered. */
  readonly replyTimes: readonly (number | undefined)[];
  /** performance.now() → Date.now(): add this. */
  readonly epochOffsetMs: number;
  /** Monotonic ms when sending stopped. */
  readonly stoppedAt: number;
  readonly pps: number;
}

const round = (v: number): number => Math.round(v * 1000) / 1000;

export function probeStats(r: ProbeRecord): ProbeResult {
  const sent = r.sendTimes.length;
  const interval = 1000 / r.pps;
  const first = r.sendTimes[0] ?? r.stoppedAt;
  const last = r.sendTimes[sent - 1] ?? r.stoppedAt;
  const arrivals: number[] = [];
  const rtts: number[] = [];
  for (let seq = 0; seq < sent; seq++) {
    const t = r.replyTimes[seq];
    if (t !== undefined) {
      arrivals.push(t);
      rtts.push(t - (r.sendTimes[seq] as number));
    }
  }
  const points = [first, ...arrivals, last].sort((a, b) => a - b);
  let longestGap = 0;
  for (let i = 1; i < points.length; i++) longestGap = Math.max(longestGap, (points[i] as number) - (points[i - 1] as number));

  const windows: LossWindow[] = [];
  let seq = 0;
  while (seq < sent) {
    if (r.replyTimes[seq] !== undefined) {
      seq++;
      continue;
    }
    const start = seq;
    while (seq < sent && r.replyTimes[seq] === undefined) seq++;
    const from = r.sendTimes[start] as number;
    const to = seq < sent ? (r.sendTimes[seq] as number) : Math.max((r.sendTimes[seq - 1] as number) + interval, from);
    windows.push({ from: round(from + r.epochOffsetMs), to: round(to + r.epochOffsetMs), ms: round(to - from), packets: seq - start });
  }

  let rttMs: ProbeResult['rttMs'];
  if (rtts.length > 0) {
    const sorted = [...rtts].sort((a, b) => a - b);
    rttMs = {
      min: round(sorted[0] as number),
      avg: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
      p99: round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] as number),
      max: round(sorted[sorted.length - 1] as number),
    };
  }
  return {
    sent,
    received: arrivals.length,
    lost: sent - arrivals.length,
    longestGapMs: round(longestGap),
    lossWindows: windows,
    rttMs,
    startedAt: round(first + r.epochOffsetMs),
    stoppedAt: round(r.stoppedAt + r.epochOffsetMs),
    pps: r.pps,
  };
}
