/**
 * Continuous UDP probe with sequence numbers, for measuring datapath loss (gateway failover, link
 * flaps). Run inside the source namespace against udp-echo.ts in the target namespace:
 *
 *   ip netns exec <ns> node udp-probe.ts --target 10.0.1.2 [--port 17007] [--pps 100] [--grace-ms 500]
 *
 * Each datagram carries a random run id and its sequence number; replies are matched on both.
 * Sending is paced on the monotonic clock (no drift; after a stall of the event loop the missed
 * probes are sent at once). Output, one JSON line each:
 *   {"event":"ready"}            socket open, first probe sent
 *   {"event":"first-reply"}      the path works
 *   {"event":"result", ...}      after stop: see probe-stats.ts (sent, received, lost, longestGapMs,
 *                                lossWindows, rttMs)
 * Stop: a line `stop` on stdin, stdin closing, SIGTERM or SIGINT. Sending stops at once; replies are
 * awaited for --grace-ms before the figures are computed.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { probeStats } from './probe-stats.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    port: { type: 'string', default: '17007' },
    pps: { type: 'string', default: '100' },
    'grace-ms': { type: 'string', default: '500' },
  },
});

function fail(message: string, code = 2): never {
  console.log(JSON.stringify({ event: 'error', message }));
  process.exit(code);
}

const target = values.target ?? fail('--target is required');
const port = Number(values.port);
const pps = Number(values.pps);
const graceMs = Number(values['grace-ms']);
if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port ${values.port} is not a port number`);
if (!Number.isFinite(pps) || pps <= 0 || pps > 100_000) fail(`--pps ${values.pps} must be in (0, 100000]`);
if (!Number.isFinite(graceMs) || graceMs < 0) fail(`--grace-ms ${values['grace-ms']} must be >= 0`);

const runId = randomBytes(4).readUInt32BE(0);
const intervalMs = 1000 / pps;
const sendTimes: number[] = [];
const replyTimes: (number | undefined)[] = [];
let sendErrors = 0;
let lastSendError: string | undefined;
let firstReply = false;
let stopping = false;
let stoppedAt = 0;
let timer: NodeJS.Timeout | undefined;

const sock = createSocket('udp4');
sock.on('error', (e) => fail(`socket: ${e.message}`, 1));
sock.on('message', (msg) => {
  const now = performance.now();
  if (msg.length < 8 || msg.readUInt32BE(0) !== runId) return;
  const seq = msg.readUInt32BE(4);
  if (seq >= sendTimes.length || replyTimes[seq] !== undefined) return;
  replyTimes[seq] = now;
  if (!firstReply) {
    firstReply = true;
    console.log(JSON.stringify({ event: 'first-reply', seq, rttMs: now - (sendTimes[seq] as number) }));
  }
});

let t0 = 0;
function sendOne(): void {
  const seq = sendTimes.length;
  const buf = Buffer.alloc(16);
  buf.writeUInt32BE(runId, 0);
  buf.writeUInt32BE(seq, 4);
  sendTimes.push(performance.now());
  replyTimes.push(undefined);
  sock.send(buf, port, target, (err) => {
    if (err) {
      sendErrors++;
      lastSendError = err.message;
    }
  });
}

function tick(): void {
  if (stopping) return;
  const due = Math.floor((performance.now() - t0) / intervalMs) + 1;
  while (sendTimes.length < due) sendOne();
  const next = t0 + sendTimes.length * intervalMs;
  timer = setTimeout(tick, Math.max(0, next - performance.now()));
}

function stop(): void {
  if (stopping) return;
  stopping = true;
  stoppedAt = performance.now();
  if (timer) clearTimeout(timer);
  setTimeout(() => {
    const stats = probeStats({ sendTimes, replyTimes, epochOffsetMs: Date.now() - performance.now(), stoppedAt, pps });
    console.log(JSON.stringify({ event: 'result', ...stats, sendErrors, ...(lastSendError ? { lastSendError } : {}) }));
    sock.close();
    process.exit(0);
  }, graceMs);
}

sock.bind(0, () => {
  t0 = performance.now();
  sendOne();
  console.log(JSON.stringify({ event: 'ready', port: sock.address().port }));
  const next = t0 + intervalMs;
  timer = setTimeout(tick, Math.max(0, next - performance.now()));
});

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => {
  input += d;
  if (input.split('\n').some((l) => l.trim() === 'stop')) stop();
});
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
