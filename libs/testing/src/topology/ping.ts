import { spawn } from 'node:child_process';

/**
 * ICMP echo from inside a namespace with iputils `ping`, summarised. No reply is a result (received
 * 0), not an exception: "cannot reach" is something tests assert.
 */

export interface PingOptions {
  /** Echo requests (default 3). */
  readonly count?: number;
  /** Between requests (default 200 ms; below 200 ms needs root, which netns tests have). */
  readonly intervalMs?: number;
  /** How long to wait for the last reply (default 1000 ms). */
  readonly timeoutMs?: number;
}

export interface PingResult {
  readonly target: string;
  readonly transmitted: number;
  readonly received: number;
  /** ICMP errors received instead of replies (e.g. "Destination Net Unreachable"). */
  readonly errors: number;
  readonly lossPct: number;
  readonly rttMs: { readonly min: number; readonly avg: number; readonly max: number } | undefined;
  /** ping's exit code: 0 some reply, 1 none, 2 other error (e.g. "Network is unreachable" locally). */
  readonly exitCode: number | null;
  /** Output lines that explain a failure (`connect: Network is unreachable`, `From ... Unreachable`). */
  readonly problems: readonly string[];
}

const STATS_RE = /(\d+) packets transmitted, (\d+) received(?:, \+(\d+) errors)?/;
const RTT_RE = /rtt min\/avg\/max\/mdev = ([\d.]+)\/([\d.]+)\/([\d.]+)\//;
const PROBLEM_RE = /unreachable|prohibited|time to live exceeded|connect:|bind:|unknown host|Name or service not known|not permitted/i;

/** Parses iputils ping output (stdout + stderr). */
export function parsePing(target: string, output: string, exitCode: number | null): PingResult {
  const s = STATS_RE.exec(output);
  const transmitted = s ? Number(s[1]) : 0;
  const received = s ? Number(s[2]) : 0;
  const errors = s?.[3] ? Number(s[3]) : 0;
  const r = RTT_RE.exec(output);
  const problems = [...new Set(output.split('\n').map((l) => l.trim()).filter((l) => PROBLEM_RE.test(l)))].slice(0, 5);
  return {
    target,
    transmitted,
    received,
    errors,
    lossPct: transmitted === 0 ? 100 : Math.round(((transmitted - received) / transmitted) * 10000) / 100,
    rttMs: r ? { min: Number(r[1]), avg: Number(r[2]), max: Number(r[3]) } : undefined,
    exitCode,
    problems,
  };
}

/** `ping` arguments for the options (numeric output, quiet summary). */
export function pingArgs(ip: string, o: PingOptions = {}): string[] {
  const count = o.count ?? 3;
  const interval = o.intervalMs ?? 200;
  const timeout = o.timeoutMs ?? 1000;
  if (!Number.isInteger(count) || count < 1) throw new Error(`ping: count ${String(count)} must be a positive integer`);
  if (!(interval >= 2)) throw new Error(`ping: intervalMs ${String(interval)} must be at least 2`);
  if (!(timeout >= 1)) throw new Error(`ping: timeoutMs ${String(timeout)} must be positive`);
  const deadline = Math.ceil(((count - 1) * interval + timeout) / 1000) + 1;
  return ['-n', '-q', '-c', String(count), '-i', String(interval / 1000), '-W', String(Math.max(timeout / 1000, 0.001)), '-w', String(deadline), ip];
}

/** Pings `ip` from inside `netns`. */
export function pingFrom(netns: string, ip: string, o: PingOptions = {}): Promise<PingResult> {
  const args = pingArgs(ip, o);
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, 'ping', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C', PATH: `${process.env['PATH'] ?? '/usr/bin:/bin'}:/usr/sbin:/sbin` },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', (e) => reject(new Error(`ping ${ip} (netns ${netns}): ${e.message}`)));
    child.on('close', (code) => {
      if (code === 255 || /Cannot open network namespace/.test(out)) {
        reject(new Error(`ping ${ip} (netns ${netns}): ${out.trim() || `exit code ${String(code)}`}`));
        return;
      }
      resolve(parsePing(ip, out, code));
    });
  });
}
