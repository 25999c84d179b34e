/**
 * Test support: forwards TCP connections on `host:port` (inside a node's network namespace) to a
 * Unix socket served by the test process, which passes them on to a server on the host's loopback
 * (API server, NATS). TLS passes through untouched.
 *
 *   node tcp-unix-relay.ts 127.0.0.1:6443 /tmp/x/api.sock
 */
import { connect, createServer } from 'node:net';

const [listen = '', unixPath = ''] = process.argv.slice(2);
const at = listen.lastIndexOf(':');
const host = listen.slice(0, at);
const port = Number(listen.slice(at + 1));
if (!host || !Number.isInteger(port) || !unixPath) {
  console.error('usage: tcp-unix-relay.ts <host:port> <unix socket path>');
  process.exit(2);
}
createServer((client) => {
  const upstream = connect(unixPath);
  client.pipe(upstream);
  upstream.pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
}).listen(port, host, () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
