import { chmodSync, existsSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';

/**
 * The lab's control channel: an HTTP server on a Unix socket in the lab directory (mode 0600, so only
 * the lab's owner can use it), through which a client asks the lab's owner process to stop and start
 * parts of the lab it holds — NATS, the Broker's kube-apiserver — or to restart, hold or release one
 * service process. One operation runs at a time; each answers when it is complete (a restarted or
 * released service: when it is ready).
 */

/** A service replica: its cluster, its name, and its node when it runs on several. */
export interface ServiceTarget {
  cluster: string;
  service: string;
  node?: string;
}

export interface RestartResult {
  /** The supervisor's name of the process, e.g. `cluster-1/route-agent@cluster-1-w1`. */
  name: string;
  oldPid: number | undefined;
  newPid: number | undefined;
  /** SIGTERM → the old process exited. */
  exitedMs: number;
  /** SIGTERM → the new process answers /readyz. */
  readyMs: number;
}

export interface HoldResult {
  /** The supervisor's name of the process, e.g. `cluster-2/broker-sync`. */
  name: string;
  /** The pid that was stopped. */
  pid: number | undefined;
  /** SIGTERM → the process exited. */
  exitedMs: number;
}

export interface ReleaseResult {
  name: string;
  /** The new process. */
  pid: number | undefined;
  /** When it was spawned (Unix epoch, ms): the start of what a caller measures from the release. */
  startedAtMs: number;
  /** Spawn → the process answers /readyz. */
  readyMs: number;
}

export interface ComponentResult {
  /** How long the stop or start took. */
  ms: number;
  /** The component's new pid after a start. */
  pid?: number;
}

/** What the lab's owner process does for each operation. */
export interface LabControlHandler {
  /** Stops NATS (its port and credentials are kept for the start). */
  stopNats(): Promise<ComponentResult>;
  startNats(): Promise<ComponentResult>;
  /** Stops the Broker's kube-apiserver (its etcd, and so its data, stays). */
  stopBrokerApiServer(): Promise<ComponentResult>;
  /** Starts it again on the same port; resolves when it is ready. */
  startBrokerApiServer(): Promise<ComponentResult>;
  /** SIGTERMs one service replica; resolves when the lab has started it again and it is ready. */
  restartService(target: ServiceTarget): Promise<RestartResult>;
  /**
   * SIGTERMs one service replica and keeps it stopped: neither the supervisor nor the liveness probe
   * starts it again, and the lab's status shows it as held, until it is released (or the lab stops).
   */
  holdService(target: ServiceTarget): Promise<HoldResult>;
  /** Starts a held replica again; resolves when it is ready. */
  releaseService(target: ServiceTarget): Promise<ReleaseResult>;
}

/** An operation refused for a reason the caller can fix: its HTTP status and a message that says why. */
export class ControlError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ControlError';
    this.status = status;
  }
}

/** The lab's control socket. */
export function controlSocket(dir: string): string {
  return join(dir, 'control.sock');
}

/** The operations, by path (POST). */
export const CONTROL_ROUTES = {
  '/v1/nats/stop': (h: LabControlHandler) => h.stopNats(),
  '/v1/nats/start': (h: LabControlHandler) => h.startNats(),
  '/v1/broker-apiserver/stop': (h: LabControlHandler) => h.stopBrokerApiServer(),
  '/v1/broker-apiserver/start': (h: LabControlHandler) => h.startBrokerApiServer(),
  '/v1/services/restart': (h: LabControlHandler, body: unknown) => h.restartService(parseServiceTarget(body)),
  '/v1/services/hold': (h: LabControlHandler, body: unknown) => h.holdService(parseServiceTarget(body)),
  '/v1/services/release': (h: LabControlHandler, body: unknown) => h.releaseService(parseServiceTarget(body)),
} as const satisfies Record<string, (h: LabControlHandler, body: unknown) => Promise<unknown>>;

export type ControlPath = keyof typeof CONTROL_ROUTES;

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_BODY_BYTES = 4096;

/** What the lab knows of one supervised replica, for choosing it and for checking an operation on it. */
export interface ReplicaInfo {
  /** The supervisor's name, e.g. `cluster-1/route-agent@cluster-1-w1`. */
  name: string;
  cluster: string;
  service: string;
  node?: string | undefined;
  running: boolean;
  held: boolean;
}

/** The one replica `target` names; 404 when there is none (naming what runs in the cluster), 400 when a node must be named. */
export function pickReplica<R extends ReplicaInfo>(replicas: readonly R[], target: ServiceTarget): R {
  const { cluster, service, node } = target;
  const found = replicas.filter((r) => r.cluster === cluster && r.service === service && (!node || r.node === node));
  if (found.length === 0) {
    const names = [...new Set(replicas.filter((r) => r.cluster === cluster).map((r) => `${r.service}@${r.node}`))];
    throw new ControlError(404, `no ${service}${node ? ` on ${node}` : ''} in ${cluster} (there: ${names.join(', ') || 'nothing'})`);
  }
  if (found.length > 1) throw new ControlError(400, `${service} runs on ${found.length} nodes of ${cluster}: name one (${found.map((r) => r.node).join(', ')})`);
  return found[0]!;
}

/** Why `operation` cannot run on the replica now (409), or nothing when it can. */
export function replicaRefusal(r: ReplicaInfo, operation: 'restart' | 'hold' | 'release'): ControlError | undefined {
  if (operation === 'release') return r.held ? undefined : new ControlError(409, `${r.name} is not held (hold it first)`);
  if (r.held) return new ControlError(409, operation === 'hold' ? `${r.name} is already held` : `${r.name} is held: release it instead`);
  if (!r.running) return new ControlError(409, `${r.name} is not running (the lab is restarting it)`);
  return undefined;
}

/** Validates a restart request's body: `cluster` and `service` DNS labels, `node` optional. */
export function parseServiceTarget(body: unknown): ServiceTarget {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ControlError(400, 'the body must be a JSON object {"cluster", "service", "node"?}');
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) if (!['cluster', 'service', 'node'].includes(key)) throw new ControlError(400, `unknown field "${key}" (fields: cluster, service, node)`);
  const field = (key: string, required: boolean): string | undefined => {
    const v = b[key];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || !NAME.test(v)) throw new ControlError(400, `"${key}" must be a name (lower-case letters, digits and "-"), got ${JSON.stringify(v)}`);
    return v;
  };
  const cluster = field('cluster', true) as string;
  const service = field('service', true) as string;
  const node = field('node', false);
  return { cluster, service, ...(node ? { node } : {}) };
}

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

/** Serves `handler` on the Unix socket `path` (mode 0600; a stale socket file is replaced). */
export async function startControlServer(path: string, handler: LabControlHandler, log: (msg: string) => void = () => undefined): Promise<ControlServer> {
  let queue: Promise<unknown> = Promise.resolve();
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    try {
      const url = new URL(req.url ?? '/', 'http://lab');
      const route = Object.hasOwn(CONTROL_ROUTES, url.pathname) ? CONTROL_ROUTES[url.pathname as ControlPath] : undefined;
      if (!route) throw new ControlError(404, `no operation ${url.pathname} (operations: ${Object.keys(CONTROL_ROUTES).join(', ')})`);
      if (req.method !== 'POST') throw new ControlError(405, `${url.pathname} takes POST`);
      const text = await readBody(req);
      let body: unknown = {};
      if (text.trim() !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          throw new ControlError(400, 'the body is not JSON');
        }
      }
      // One operation at a time, in arrival order.
      const run = queue.then((): Promise<unknown> => {
        log(`control: ${url.pathname}${text.trim() ? ` ${text.trim()}` : ''}`);
        return route(handler, body);
      });
      queue = run.catch(() => undefined);
      const result = await run;
      reply(200, { ok: true, ...(result as object) });
    } catch (err) {
      const status = err instanceof ControlError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (status === 500) log(`control: ${req.url ?? ''} failed: ${message}`);
      reply(status, { ok: false, error: message });
    }
  };
  const server: Server = createServer((req, res) => void serve(req, res));
  if (existsSync(path)) rmSync(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        rmSync(path, { force: true });
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    let tooLarge = false;
    req.setEncoding('utf8');
    // A body too large is read to its end (and dropped), so that the refusal reaches the client.
    req.on('data', (chunk: string) => {
      if (!tooLarge) text += chunk;
      tooLarge ||= text.length > MAX_BODY_BYTES;
    });
    req.on('end', () => (tooLarge ? reject(new ControlError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`)) : resolve(text)));
    req.on('error', reject);
  });
}

/** One operation through the socket; resolves with its result, rejects with the server's message. */
export function controlRequest<T = Record<string, unknown>>(socketPath: string, path: ControlPath, body: unknown = {}, timeoutMs = 300_000): Promise<T> {
  const payload = JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = request(
      { socketPath, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }, timeout: timeoutMs },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let parsed: { ok?: boolean; error?: string } & Record<string, unknown>;
          try {
            parsed = JSON.parse(text) as typeof parsed;
          } catch {
            reject(new Error(`the lab's control socket answered ${res.statusCode} with no JSON: ${text.slice(0, 200)}`));
            return;
          }
          if (res.statusCode === 200 && parsed.ok) {
            const { ok: _ok, ...rest } = parsed;
            resolve(rest as T);
          } else reject(new ControlError(res.statusCode ?? 500, parsed.error ?? `status ${res.statusCode}`));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from the lab's control socket after ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(payload);
  });
}
