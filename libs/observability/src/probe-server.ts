import { fastify, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** A readiness check: resolves when ready, rejects (or throws) with the reason when not. */
export type ReadinessCheck = (signal: AbortSignal) => Promise<void> | void;

export interface ProbeServerOptions {
  registry: Registry;
  /** Per-check time limit for /readyz (default 2 s). */
  checkTimeoutMs?: number;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  reason?: string;
  /** False for an informational check: shown by `?verbose`, never a reason to answer 503. */
  gating: boolean;
}

export interface CheckOptions {
  /**
   * Whether a failure makes /readyz answer 503 (default true). An informational check (false) reports a
   * degraded dependency the service works without — e.g. the NATS hint bus: a pod must not leave its
   * Service's endpoints (the gateway's!) because hints are late.
   */
  gating?: boolean;
}

/**
 * The probe port of every Strait service:
 *  - `GET /livez`  200 `ok` as long as the event loop serves requests;
 *  - `GET /readyz` runs every registered readiness check (concurrently, each bounded in time):
 *    200 `ok`, or 503 listing the failing checks; `?verbose` lists every check (`[+]name ok` / `[-]name failed: reason`,
 *    and for a failing informational check `[!]name degraded: reason`, which does not gate readiness);
 *  - `GET /metrics` the registry in the Prometheus text format.
 */
export class ProbeServer {
  readonly app: FastifyInstance;
  readonly #registry: Registry;
  readonly #checks = new Map<string, { check: ReadinessCheck; gating: boolean }>();
  readonly #checkTimeoutMs: number;
  #shuttingDown = false;
  #closing: Promise<void> | undefined;

  constructor(opts: ProbeServerOptions) {
    this.#registry = opts.registry;
    this.#checkTimeoutMs = opts.checkTimeoutMs ?? 2000;
    this.app = fastify({ logger: false, forceCloseConnections: true });
    this.app.get('/livez', async (_req, reply) => reply.type('text/plain; charset=utf-8').send('ok'));
    this.app.get('/healthz', async (_req, reply) => reply.type('text/plain; charset=utf-8').send('ok'));
    this.app.get<{ Querystring: { verbose?: string } }>('/readyz', async (req, reply) => {
      const results = await this.runChecks();
      const failed = results.filter((r) => !r.ok && r.gating);
      const verbose = req.query.verbose !== undefined && req.query.verbose !== 'false' && req.query.verbose !== '0';
      reply.type('text/plain; charset=utf-8').code(failed.length === 0 ? 200 : 503);
      if (failed.length === 0 && !verbose) return reply.send('ok');
      const shown = verbose ? results : failed;
      const lines = shown.map((r) => (r.ok ? `[+]${r.name} ok` : r.gating ? `[-]${r.name} failed: ${r.reason ?? 'not ready'}` : `[!]${r.name} degraded: ${r.reason ?? 'not ready'}`));
      lines.push(failed.length === 0 ? 'readyz check passed' : 'readyz check failed');
      return reply.send(`${lines.join('\n')}\n`);
    });
    this.app.get('/metrics', async (_req, reply) => {
      const body = await this.#registry.metrics();
      return reply.type(this.#registry.contentType).send(body);
    });
  }

  /** Registers (or replaces) a named readiness check. */
  addCheck(name: string, check: ReadinessCheck, opts: CheckOptions = {}): void {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw new Error(`readiness check name "${name}" must be lower-case [a-z0-9._-]`);
    this.#checks.set(name, { check, gating: opts.gating ?? true });
  }

  removeCheck(name: string): void {
    this.#checks.delete(name);
  }

  /** From now on /readyz fails with `shutdown` (the process is draining). */
  markShuttingDown(): void {
    this.#shuttingDown = true;
  }

  /** Runs every check concurrently, each bounded by the check timeout. */
  async runChecks(): Promise<CheckResult[]> {
    const entries = [...this.#checks.entries()];
    const results = await Promise.all(entries.map(([name, c]) => this.#runOne(name, c.check, c.gating)));
    if (this.#shuttingDown) results.unshift({ name: 'shutdown', ok: false, reason: 'process is shutting down', gating: true });
    return results;
  }

  async #runOne(name: string, check: ReadinessCheck, gating: boolean): Promise<CheckResult> {
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ac.abort();
        reject(new Error(`timed out after ${this.#checkTimeoutMs} ms`));
      }, this.#checkTimeoutMs);
    });
    try {
      await Promise.race([Promise.resolve().then(() => check(ac.signal)), timeout]);
      return { name, ok: true, gating };
    } catch (err) {
      return { name, ok: false, reason: oneLine(err), gating };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    await this.app.listen({ host, port });
    const addr = this.app.server.address();
    if (addr === null || typeof addr === 'string') return { host, port };
    return { host: addr.address, port: addr.port };
  }

  /** Stops listening and closes open connections. Safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= this.app.close();
    return this.#closing;
  }
}

function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\s+/g, ' ').trim() || 'not ready';
}

export function createProbeServer(opts: ProbeServerOptions): ProbeServer {
  return new ProbeServer(opts);
}
