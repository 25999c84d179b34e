import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { RttWindow } from './rtt-window.ts';
import type { RttStats } from '../types.ts';

/**
 * In-tunnel health probe for one peer: ICMP echo from the gateway's own address inside the local subnets
 * to an address inside the remote subnets, so the probe travels exactly the path pod traffic takes.
 *
 * It runs one long-lived `ping` in the gateway's namespace (no raw sockets needed in Node) and reads one
 * line per probe: `64 bytes from …: icmp_seq=N … time=X ms`, or `no answer yet for icmp_seq=N` (`-O`).
 * Each ping process sends a bounded number of probes ({@link PROBES_PER_PROCESS}) and is then replaced, so a
 * ping orphaned by a crash of this process ends by itself. A ping that exits early (unreachable network at
 * start, namespace changes) is restarted with back-off.
 */
export const PROBES_PER_PROCESS = 600;

export interface ProberOptions {
  readonly netns?: string;
  readonly localIp: string;
  readonly remoteIp: string;
  /** Probe interval, default 1000 ms (≥ 200 ms). */
  readonly intervalMs?: number;
  /** Probes in the statistics window, default 30. */
  readonly window?: number;
}

export interface Prober {
  start(): void;
  stop(): void;
  stats(): RttStats | undefined;
  /** Probes lost in a row since the last reply. */
  readonly lostInARow: number;
  /** Whether any probe was answered since start. */
  readonly everReplied: boolean;
  /** Called after every lost probe with the number lost in a row. */
  onLoss?: (lostInARow: number) => void;
}

const REPLY = /icmp_seq=(\d+).*time[=<]([\d.]+) ?ms/;
const NO_ANSWER = /no answer yet for icmp_seq=(\d+)/;
const ERROR_SEQ = /icmp_seq=(\d+).*(Unreachable|Time to live exceeded|Redirect|Packet filtered)/i;

/** Parses one line of `ping -n -O` output into an event. Exported for tests. */
export function parsePingLine(line: string): { kind: 'reply'; seq: number; rttMs: number } | { kind: 'lost'; seq: number } | undefined {
  const reply = REPLY.exec(line);
  if (reply && !/Unreachable/i.test(line)) return { kind: 'reply', seq: Number(reply[1]), rttMs: Number(reply[2]) };
  const lost = NO_ANSWER.exec(line) ?? ERROR_SEQ.exec(line);
  if (lost) return { kind: 'lost', seq: Number(lost[1]) };
  return undefined;
}

export class PingProber implements Prober {
  private readonly opts: ProberOptions;
  private readonly window: RttWindow;
  private child: ChildProcess | undefined;
  private stopped = true;
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private replied = false;
  /** Sequence numbers restart with each ping process: offset them so the window never mixes runs. */
  private seqBase = 0;
  private maxSeq = 0;
  onLoss?: (lostInARow: number) => void;

  constructor(opts: ProberOptions) {
    this.opts = opts;
    this.window = new RttWindow(opts.window ?? 30);
  }

  get lostInARow(): number {
    return this.window.lostInARow;
  }

  get everReplied(): boolean {
    return this.replied;
  }

  stats(): RttStats | undefined {
    return this.window.stats();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.spawnPing();
  }

  stop(): void {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) child.kill('SIGTERM');
  }

  private spawnPing(): void {
    const intervalMs = Math.max(200, this.opts.intervalMs ?? 1000);
    const seconds = (intervalMs / 1000).toFixed(3);
    const ping = ['ping', '-n', '-O', '-c', String(PROBES_PER_PROCESS), '-i', seconds, '-W', seconds, '-I', this.opts.localIp, this.opts.remoteIp];
    const argv = this.opts.netns ? ['ip', 'netns', 'exec', this.opts.netns, ...ping] : ping;
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    this.child = child;
    const base = this.seqBase;
    let events = 0;
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      const ev = parsePingLine(line);
      if (!ev) return;
      events++;
      const seq = base + ev.seq;
      this.maxSeq = Math.max(this.maxSeq, seq);
      if (ev.kind === 'reply') {
        this.failures = 0;
        this.replied = true;
        this.window.reply(seq, ev.rttMs);
      } else {
        this.window.lost(seq);
        this.onLoss?.(this.window.lostInARow);
      }
    });
    child.stderr!.resume();
    child.on('error', () => undefined);
    child.on('exit', () => {
      rl.close();
      if (this.child !== child) return;
      this.child = undefined;
      if (this.stopped) return;
      this.seqBase = this.maxSeq + 1;
      this.maxSeq = this.seqBase;
      if (events >= PROBES_PER_PROCESS - 1) {
        this.spawnPing(); // planned rollover
        return;
      }
      // ping gave up (e.g. "Network is unreachable" before routes exist): count a loss and retry with back-off.
      this.window.lost(this.seqBase);
      this.failures++;
      const delay = Math.min(intervalMs * 2 ** Math.min(this.failures, 5), 30_000);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        if (!this.stopped) this.spawnPing();
      }, delay);
      this.restartTimer.unref();
    });
  }
}
