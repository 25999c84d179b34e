import { createServer } from 'node:net';
import { ProcessFailedError } from './process.ts';

/** Ports this process has handed out; never handed out twice, so concurrent start-ups cannot collide. */
const handedOut = new Set<number>();

function bindEphemeral(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error(`could not bind ${host}:0`))));
    });
  });
}

/**
 * A free TCP port on the loopback address: the kernel picks one (bind :0), the socket is released,
 * and the port is remembered so this process never returns it again. Another process can still take
 * it before the caller binds it; callers retry start-up on "address already in use".
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await bindEphemeral(host);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port on ${host} after 100 attempts`);
}

/** Several distinct free ports. */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await freePort(host));
  return out;
}

/** True when a process failed because another process took its port between our probe and its bind. */
export function isPortClash(err: unknown): boolean {
  return err instanceof ProcessFailedError && /address already in use/i.test(err.logTail);
}

/** Runs `attempt` (which should pick fresh ports each time) again after a port clash, up to `tries` times. */
export async function withPortRetry<T>(attempt: () => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (i >= tries || !isPortClash(err)) throw err;
    }
  }
}
