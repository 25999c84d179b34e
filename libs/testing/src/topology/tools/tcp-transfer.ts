/**
 * TCP transfer in both directions over one connection, for checking a path end to end (MTU, MSS,
 * NAT) and measuring throughput. Run as two processes in two namespaces:
 *
 *   ip netns exec <to>   node tcp-transfer.ts server --bytes N [--write-size 1400] [--port 0]
 *   ip netns exec <from> node tcp-transfer.ts client --host <ip> --port P --bytes N [--write-size 1400]
 *
 * The client sends N bytes in writes of --write-size (Nagle off), then half-closes; the server reads
 * to the end, then sends N bytes back the same way and closes. Each side hashes what it sent and what
 * it received (SHA-256), so the caller can compare both directions byte for byte. Output, one JSON
 * line each: server `{"event":"ready","port":P}`; both `{"event":"result","sent":{bytes,sha256},
 * "received":{bytes,sha256,ms}}` (`ms`: first to last byte received) or `{"event":"error",...}` and exit
 * code 1. Both give up after --timeout-ms (default 60 000) and exit when stdin closes.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    host: { type: 'string' },
    port: { type: 'string', default: '0' },
    bind: { type: 'string', default: '0.0.0.0' },
    bytes: { type: 'string' },
    'write-size': { type: 'string', default: '1400' },
    'timeout-ms': { type: 'string', default: '60000' },
  },
});

function emit(o: Record<string, unknown>): void {
  console.log(JSON.stringify(o));
}

function fail(message: string, code = 1): never {
  emit({ event: 'error', message });
  process.exit(code);
}

const mode = positionals[0];
if (mode !== 'server' && mode !== 'client') fail('usage: tcp-transfer.ts server|client ...', 2);
const bytes = Number(values.bytes);
const writeSize = Number(values['write-size']);
const port = Number(values.port);
const timeoutMs = Number(values['timeout-ms']);
if (!Number.isSafeInteger(bytes) || bytes < 0) fail(`--bytes ${String(values.bytes)} must be a non-negative integer`, 2);
if (!Number.isInteger(writeSize) || writeSize < 1 || writeSize > 1 << 20) fail(`--write-size ${values['write-size']} must be in 1..1048576`, 2);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port ${values.port} is not a port number`, 2);
setTimeout(() => fail(`${mode}: timed out after ${timeoutMs} ms`), timeoutMs).unref();
process.stdin.on('end', () => fail(`${mode}: stdin closed (parent gone)`));
process.stdin.on('error', () => undefined);
process.stdin.resume();

const BLOCK = 1 << 16;
const pattern = randomBytes(BLOCK + writeSize);
let patternOffset = 0;

async function sendAll(sock: Socket): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let left = bytes;
  while (left > 0) {
    const len = Math.min(writeSize, left);
    const chunk = pattern.subarray(patternOffset, patternOffset + len);
    patternOffset = (patternOffset + len) % BLOCK;
    hash.update(chunk);
    left -= len;
    if (!sock.write(chunk)) await once(sock, 'drain');
  }
  return { bytes, sha256: hash.digest('hex') };
}

interface Receiver {
  readonly hash: Hash;
  bytes: number;
  first: number | undefined;
  last: number;
}

function receive(sock: Socket): Receiver {
  const r: Receiver = { hash: createHash('sha256'), bytes: 0, first: undefined, last: 0 };
  sock.on('data', (d: Buffer) => {
    const now = performance.now();
    r.first ??= now;
    r.last = now;
    r.bytes += d.length;
    r.hash.update(d);
  });
  return r;
}

function received(r: Receiver): { bytes: number; sha256: string; ms: number } {
  return { bytes: r.bytes, sha256: r.hash.digest('hex'), ms: r.first === undefined ? 0 : Math.round((r.last - r.first) * 1000) / 1000 };
}

if (mode === 'server') {
  const server = createServer({ allowHalfOpen: true }, (sock) => {
    server.close();
    sock.setNoDelay(true);
    sock.on('error', (e) => fail(`server: ${e.message}`));
    const r = receive(sock);
    sock.once('end', () => {
      const got = received(r);
      void sendAll(sock).then((sent) => {
        sock.end(() => {
          emit({ event: 'result', sent, received: got });
          process.exit(0);
        });
      });
    });
  });
  server.on('error', (e) => fail(`server: ${e.message}`));
  server.listen(port, values.bind, () => {
    const addr = server.address();
    emit({ event: 'ready', port: typeof addr === 'object' && addr ? addr.port : port });
  });
} else {
  const host = values.host ?? fail('client: --host is required', 2);
  if (port === 0) fail('client: --port is required', 2);
  const sock = createConnection({ host, port, allowHalfOpen: true });
  sock.setNoDelay(true);
  sock.on('error', (e) => fail(`client: ${e.message}`));
  const r = receive(sock);
  const ended = once(sock, 'end');
  sock.once('connect', () => {
    void sendAll(sock).then(async (sent) => {
      sock.end();
      await ended;
      emit({ event: 'result', sent, received: received(r) });
      process.exit(0);
    });
  });
}
