/**
 * Test fixture: relays TCP connections on `host:port` to a Unix socket. A service running inside a
 * test's network namespace reaches the test's API server (bound to the host's loopback) this way:
 * TCP inside the namespace → Unix socket (filesystem paths are not per network namespace) → a
 * relay in the test process → the API server. TLS passes through untouched.
 *
 *   node tcp-unix-relay.ts 127.0.0.1:6443 /tmp/x/api.sock
 */
import { connect, createServer } from 'node:net';

const [listen = '', unixPath = ''] = process.argv.slice(2);
const colon = listen.lastIndexOf(':');
const host = listen.slice(0, colon);
const port = Number(listen.slice(colon + 1));
if (!host || !Number.isInteger(port) || !unixPath) {
  console.error('usage: tcp-unix-relay.ts <host:port> <unix socket path>');
  process.exit(2);
}

const server = createServer((c) => {
  const u = connect(unixPath);
  c.pipe(u);
  u.pipe(c);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
});
server.listen(port, host, () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
