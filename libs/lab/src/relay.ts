/**
 * Byte relay between TCP and Unix sockets, so a process inside a node's network namespace reaches a
 * server on the host's loopback (and the host reaches a server on the namespace's loopback): network
 * namespaces do not share loopback, but they share the filesystem. TLS passes through untouched.
 *
 *   node relay.ts tcp:127.0.0.1:6443=unix:/lab/relay/api.sock  unix:/lab/relay/probe.sock=tcp:127.0.0.1:9101 ...
 *
 * Each argument is LISTEN=TARGET. Prints "ready" once every listener is up.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';

export type Address = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export function parseAddress(text: string): Address {
  if (text.startsWith('unix:') && text.length > 5) return { kind: 'unix', path: text.slice(5) };
  const m = /^tcp:(.+):(\d+)$/.exec(text);
  if (m && Number(m[2]) > 0 && Number(m[2]) < 65536) return { kind: 'tcp', host: m[1]!, port: Number(m[2]) };
  throw new Error(`relay: bad address ${JSON.stringify(text)} (want tcp:HOST:PORT or unix:PATH)`);
}

export function parseMapping(text: string): { listen: Address; target: Address } {
  const eq = text.indexOf('=');
  if (eq < 0) throw new Error(`relay: bad mapping ${JSON.stringify(text)} (want LISTEN=TARGET)`);
  return { listen: parseAddress(text.slice(0, eq)), target: parseAddress(text.slice(eq + 1)) };
}

function dial(a: Address): Socket {
  return a.kind === 'unix' ? connect({ path: a.path, allowHalfOpen: true }) : connect({ port: a.port, host: a.host, allowHalfOpen: true });
}

/** Starts one relay listener; resolves once it listens. */
export function startRelay(listen: Address, target: Address): Promise<Server> {
  // Half-open connections pass through: a client that ends its writes still gets the reply.
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = dial(target);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if (listen.kind === 'unix') {
      rmSync(listen.path, { force: true });
      server.listen(listen.path, () => resolve(server));
    } else {
      server.listen(listen.port, listen.host, () => resolve(server));
    }
  });
}

if (import.meta.main) {
  try {
    const mappings = process.argv.slice(2).map(parseMapping);
    if (mappings.length === 0) throw new Error('relay: no mapping given (LISTEN=TARGET ...)');
    await Promise.all(mappings.map((m) => startRelay(m.listen, m.target)));
    process.stdout.write('ready\n');
    process.on('SIGTERM', () => process.exit(0));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
}
