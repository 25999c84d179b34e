import { spawn, type ChildProcess } from 'node:child_process';
import { planProbes } from '../check.ts';
import { viewMembers } from '../cluster-view.ts';
import type { LabState } from '../state.ts';

/** What a stream of echo requests saw. */
export interface TrafficSummary {
  /** Requests counted: every sequence number up to the last one answered. */
  sent: number;
  received: number;
  lost: number;
  /** Longest run of unanswered requests, as time (run length × interval). */
  longestGapMs: number;
  /** Requests sent after the last reply (still in flight when the stream stopped; not counted as lost). */
  inFlight: number;
  durationMs: number;
}

/**
 * Summarises the sequence numbers answered out of `transmitted` requests sent every `intervalMs`:
 * losses and the longest gap are counted up to the last answered request, so the requests in flight
 * when the stream stops are not mistaken for losses.
 */
export function summarizeReplies(answered: Iterable<number>, transmitted: number, intervalMs: number, durationMs: number): TrafficSummary {
  const seqs = [...new Set(answered)].sort((a, b) => a - b);
  const last = seqs.at(-1) ?? 0;
  let longest = 0;
  let prev = 0;
  for (const s of seqs) {
    longest = Math.max(longest, s - prev - 1);
    prev = s;
  }
  // Nothing answered at all: every request is lost.
  if (seqs.length === 0) return { sent: transmitted, received: 0, lost: transmitted, longestGapMs: transmitted * intervalMs, inFlight: 0, durationMs };
  return { sent: last, received: seqs.length, lost: last - seqs.length, longestGapMs: longest * intervalMs, inFlight: Math.max(0, transmitted - last), durationMs };
}

export function formatTraffic(t: TrafficSummary): string {
  return `${t.received}/${t.sent} answered, ${t.lost} lost, longest gap ${t.longestGapMs} ms over ${(t.durationMs / 1000).toFixed(1)} s`;
}

/**
 * Echo requests every `intervalMs` from a network namespace to an address (iputils ping as root), for
 * as long as it runs: stop() ends it and summarises what was answered.
 */
export class PingStream {
  private readonly child: ChildProcess;
  private readonly answered = new Set<number>();
  private transmitted = 0;
  private buffered = '';
  private readonly t0 = performance.now();
  private readonly intervalMs: number;
  private readonly done: Promise<void>;

  constructor(netns: string, address: string, intervalMs = 20) {
    this.intervalMs = intervalMs;
    this.child = spawn('ip', ['netns', 'exec', netns, 'ping', '-n', '-i', String(intervalMs / 1000), '-W', '1', address], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.take(chunk));
    this.child.stderr!.resume();
    this.done = new Promise((resolve) => this.child.once('close', () => resolve()));
  }

  private take(chunk: string): void {
    this.buffered += chunk;
    const lines = this.buffered.split('\n');
    this.buffered = lines.pop() ?? '';
    for (const line of lines) {
      const reply = /icmp_seq=(\d+) /.exec(line);
      if (reply && /bytes from/.test(line)) this.answered.add(Number(reply[1]));
      const total = /(\d+) packets transmitted/.exec(line);
      if (total) this.transmitted = Number(total[1]);
    }
  }

  /** Replies so far. */
  get received(): number {
    return this.answered.size;
  }

  /** Stops the stream (SIGINT: ping prints its totals) and summarises it. */
  async stop(): Promise<TrafficSummary> {
    const durationMs = performance.now() - this.t0;
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.done;
    clearTimeout(timer);
    this.take('\n');
    const transmitted = this.transmitted || Math.round(durationMs / this.intervalMs);
    return summarizeReplies(this.answered, transmitted, this.intervalMs, Math.round(durationMs));
  }
}

/** A ping stream from the check's probe pod of cluster `from` to its target pod of cluster `to`, at the address `from` knows it by. */
export async function pingAcross(state: LabState, from: string, to: string, intervalMs = 20): Promise<PingStream> {
  const probe = planProbes(state, await viewMembers(state)).find((p) => p.from === from && p.to === to);
  if (!probe?.address) throw new Error(`${from} has no address for a pod of ${to}`);
  return new PingStream(probe.source.netns, probe.address, intervalMs);
}
