/**
 * A TCP transfer across a test network, run in namespaces as child processes
 * (`ip netns exec <ns> node tcp-transfer.ts server|client ...`):
 *
 *   server <ip> <port>                     accept one connection, hash everything received, answer with
 *                                          {"bytes":N,"sha256":"..."} when the client half-closes
 *   client <ip> <port> <bytes> <writeSize> send <bytes> of random data in <writeSize> writes, half-close,
 *                                          print {"bytes","sha256","answer"} and exit 0 when the server saw
 *                                          exactly what was sent
 *
 * Both sides give up after 60 s. Used by the netns tests to prove there is no MTU black hole: full-size
 * segments must cross the tunnel, in both directions.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createConnection, createServer } from 'node:net';

const [mode, host = '', portText = '', bytesText = '0', writeText = '1400'] = process.argv.slice(2);
const port = Number(portText);
setTimeout(() => {
  console.error(`tcp-transfer ${mode}: timed out`);
  process.exit(3);
}, 60_000).unref();

if (mode === 'server') {
  const server = createServer((sock) => {
    const hash = createHash('sha256');
    let bytes = 0;
    sock.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    sock.on('end', () => {
      sock.end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
      server.close();
    });
    sock.on('error', (err) => {
      console.error(`server: ${err.message}`);
      process.exit(2);
    });
  });
  server.listen(port, host, () => console.log('listening'));
} else if (mode === 'client') {
  const total = Number(bytesText);
  const writeSize = Number(writeText);
  const hash = createHash('sha256');
  const sock = createConnection({ host, port });
  sock.setNoDelay(true);
  let answer = '';
  sock.setEncoding('utf8');
  sock.on('data', (c: string) => (answer += c));
  sock.on('connect', async () => {
    let sent = 0;
    while (sent < total) {
      const chunk = randomBytes(Math.min(writeSize, total - sent));
      hash.update(chunk);
      sent += chunk.length;
      if (!sock.write(chunk)) await new Promise((r) => sock.once('drain', r));
    }
    sock.end();
  });
  sock.on('end', () => {
    const sha256 = hash.digest('hex');
    const result = JSON.parse(answer || '{}') as { bytes?: number; sha256?: string };
    console.log(JSON.stringify({ bytes: total, sha256, answer: result }));
    process.exit(result.bytes === total && result.sha256 === sha256 ? 0 : 1);
  });
  sock.on('error', (err) => {
    console.error(`client: ${err.message}`);
    process.exit(2);
  });
} else {
  console.error('usage: tcp-transfer.ts server <ip> <port> | client <ip> <port> <bytes> <writeSize>');
  process.exit(64);
}
