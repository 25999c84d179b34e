/**
 * connectBus: Strait's NATS connection.
 *
 * - infinite reconnect (maxReconnectAttempts -1) with a jittered wait; should the client ever give up on its
 *   own (it does after repeated authentication failures), a new connection is started, subscriptions included;
 * - the first connect is retried in the background unless `waitForFirstConnect` is set, so a service starts
 *   while NATS is down and becomes ready later;
 * - state (`bus.state`) and readiness (`bus.ready()`) follow the client's status events;
 * - publish validates before sending; subscriptions validate every received message (see dispatch.ts);
 * - `close()` drains (bounded by drainTimeoutMs).
 *
 * Credentials never reach logs, errors or readiness reasons: logs carry the server URL and the user name only.
 */
import { connect, errors, type ConnectionOptions, type NatsConnection, type Status, type Subscription } from '@nats-io/transport-node';
import type { Static, TSchema } from 'typebox';
import { encodeMessage } from './codec.ts';
import { createDispatcher, type Dispatcher, type MessageHandler } from './dispatch.ts';
import type { BusLogger } from './logger.ts';
import { BusMetrics } from './metrics.ts';
import {
  authDescription,
  reconnectDelay,
  resolveOptions,
  secretRedactor,
  type BusOptions,
  type ResolvedBusOptions,
} from './options.ts';
import { nextState, readiness, type BusState, type Readiness, type StateSnapshot } from './state.ts';
import type { SubjectDefinition, SubjectParams, SubscribeParams } from './subject.ts';

export interface SubscribeOptions {
  /** NATS queue group: each message goes to one member of the group. */
  queue?: string;
}

export interface BusSubscription {
  /** The subscribed subject pattern, e.g. `strait.a.tunnel.*.status`. */
  readonly subject: string;
  unsubscribe(): void;
}

export interface Bus {
  readonly name: string;
  readonly state: BusState;
  readonly metrics: BusMetrics;
  /** Readiness for /readyz: ok only while connected; otherwise a reason without secrets. */
  ready(): Readiness;
  /** Calls `listener` on every state change; returns a function that removes it. */
  onStateChange(listener: (state: BusState, previous: BusState) => void): () => void;
  /**
   * Validates and publishes. Throws SubjectTokenError / PayloadValidationError on invalid input (nothing is
   * sent). Returns false when there is no connection to hand the message to (never connected yet, or closed);
   * while reconnecting the client buffers it. Messages are hints, so a lost one is not an error.
   */
  publish<P extends string, S extends TSchema>(def: SubjectDefinition<P, S>, params: SubjectParams<P>, payload: Static<S>): boolean;
  /**
   * Subscribes to a subject kind. Omitted parameters (or `'*'` for all of them) are wildcards. Every message
   * is decoded and validated; bad ones are counted and dropped. Handlers run one message at a time per
   * subscription. May be called before the first connect: the subscription starts once connected.
   */
  subscribe<P extends string, S extends TSchema>(
    def: SubjectDefinition<P, S>,
    params: SubscribeParams<P>,
    handler: MessageHandler<P, Static<S>>,
    opts?: SubscribeOptions,
  ): BusSubscription;
  /** Resolves once the server has processed everything published so far (rejects when not connected). */
  flush(): Promise<void>;
  /** Drains subscriptions and pending publishes, then closes. Idempotent. */
  close(): Promise<void>;
}

/** Thrown by connectBus (waitForFirstConnect) when the first connection cannot be established. */
export class BusConnectError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BusConnectError';
  }
}

/** Test seam: the NATS connect function. */
export type ConnectFn = (opts: ConnectionOptions) => Promise<NatsConnection>;

export async function connectBus(options: BusOptions, deps: { connect?: ConnectFn } = {}): Promise<Bus> {
  const resolved = resolveOptions(options);
  const bus = new NatsBus(resolved, options.logger, new BusMetrics(options.registry), deps.connect ?? (connect as ConnectFn));
  bus.start();
  if (resolved.waitForFirstConnect) {
    try {
      await bus.firstConnect(resolved.firstConnectTimeoutMs);
    } catch (err) {
      await bus.close();
      throw err;
    }
  }
  return bus;
}

interface SubscriptionRecord {
  readonly kind: string;
  readonly pattern: string;
  readonly queue: string | undefined;
  readonly dispatch: Dispatcher;
  active: Subscription | undefined;
  removed: boolean;
}

function isAuthError(err: unknown): boolean {
  return err instanceof errors.AuthorizationError || err instanceof errors.UserAuthenticationExpiredError;
}

class NatsBus implements Bus {
  readonly name: string;
  readonly metrics: BusMetrics;
  readonly #opts: ResolvedBusOptions;
  readonly #logger: BusLogger;
  readonly #connect: ConnectFn;
  readonly #redact: (text: string) => string;
  readonly #logContext: Record<string, unknown>;
  readonly #subs = new Set<SubscriptionRecord>();
  readonly #listeners = new Set<(state: BusState, previous: BusState) => void>();
  readonly #stop = new AbortController();
  #snapshot: StateSnapshot = { state: 'connecting', since: Date.now() };
  #nc: NatsConnection | undefined;
  #closing = false;
  #closePromise: Promise<void> | undefined;
  #supervisor: Promise<void> | undefined;
  #connectedOnce = false;
  #firstConnect = Promise.withResolvers<void>();

  constructor(opts: ResolvedBusOptions, logger: BusLogger, metrics: BusMetrics, connectFn: ConnectFn) {
    this.name = opts.name;
    this.#opts = opts;
    this.#logger = logger;
    this.metrics = metrics;
    this.#connect = connectFn;
    this.#redact = secretRedactor([opts.password, opts.token]);
    this.#logContext = { bus: opts.name, servers: opts.servers, ...authDescription(opts) };
    this.#firstConnect.promise.catch(() => undefined); // observed through firstConnect(); never unhandled
    metrics.connected.set(0);
  }

  get state(): BusState {
    return this.#snapshot.state;
  }

  ready(): Readiness {
    return readiness(this.#snapshot);
  }

  onStateChange(listener: (state: BusState, previous: BusState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    this.#supervisor = this.#run().catch((err: unknown) => {
      this.#logger.error({ ...this.#logContext, err: this.#errorText(err) }, 'bus supervisor failed');
    });
  }

  firstConnect(timeoutMs: number | undefined): Promise<void> {
    if (timeoutMs === undefined) return this.#firstConnect.promise;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const why = this.#snapshot.lastError === undefined ? '' : `: ${this.#snapshot.lastError}`;
        reject(new BusConnectError(`could not connect to NATS (${this.#opts.servers.join(', ')}) within ${timeoutMs} ms${why}`));
      }, timeoutMs);
    });
    return Promise.race([this.#firstConnect.promise, timeout]).finally(() => clearTimeout(timer));
  }

  publish<P extends string, S extends TSchema>(def: SubjectDefinition<P, S>, params: SubjectParams<P>, payload: Static<S>): boolean {
    const msg = encodeMessage(def, params, payload);
    const nc = this.#nc;
    if (nc === undefined || this.#closing || nc.isClosed() || nc.isDraining()) {
      this.metrics.publishFailures.inc({ subject_kind: def.kind, reason: 'not_connected' });
      this.#logger.debug({ ...this.#logContext, subject: msg.subject, state: this.state }, 'bus publish skipped: not connected');
      return false;
    }
    try {
      nc.publish(msg.subject, msg.data);
    } catch (err) {
      this.metrics.publishFailures.inc({ subject_kind: def.kind, reason: 'error' });
      this.#logger.warn({ ...this.#logContext, subject: msg.subject, err: this.#errorText(err) }, 'bus publish failed');
      return false;
    }
    this.metrics.published.inc({ subject_kind: def.kind });
    return true;
  }

  subscribe<P extends string, S extends TSchema>(
    def: SubjectDefinition<P, S>,
    params: SubscribeParams<P>,
    handler: MessageHandler<P, Static<S>>,
    opts: SubscribeOptions = {},
  ): BusSubscription {
    if (typeof handler !== 'function') throw new TypeError(`subscribe(${def.kind}): handler must be a function`);
    if (this.#closing) throw new Error(`subscribe(${def.kind}): the bus is closed`);
    const pattern = def.pattern(params);
    const record: SubscriptionRecord = {
      kind: def.kind,
      pattern,
      queue: opts.queue,
      dispatch: createDispatcher({ def, handler, metrics: this.metrics, logger: this.#logger, maxPayloadBytes: this.#opts.maxPayloadBytes }),
      active: undefined,
      removed: false,
    };
    this.#subs.add(record);
    const nc = this.#nc;
    if (nc !== undefined && !nc.isClosed()) this.#attach(nc, record);
    return {
      subject: pattern,
      unsubscribe: () => {
        record.removed = true;
        this.#subs.delete(record);
        try {
          record.active?.unsubscribe();
        } catch {
          /* already closed with its connection */
        }
        record.active = undefined;
      },
    };
  }

  async flush(): Promise<void> {
    const nc = this.#nc;
    if (nc === undefined || nc.isClosed()) throw new Error(`bus ${this.name} is not connected (${this.state})`);
    await nc.flush();
  }

  close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    this.#stop.abort();
    this.#firstConnect.reject(new BusConnectError(`bus ${this.name} closed before it connected`));
    const nc = this.#nc;
    if (nc !== undefined && !nc.isClosed() && this.state !== 'connected') {
      // Nothing can be flushed to a server we are not connected to: close at once instead of waiting.
      await nc.close().catch(() => undefined);
    } else if (nc !== undefined && !nc.isClosed()) {
      const drained = nc.drain().then(
        () => true,
        () => false,
      );
      const timedOut = new Promise<boolean>((resolve) => setTimeout(resolve, this.#opts.drainTimeoutMs, false).unref());
      const ok = await Promise.race([drained, timedOut]);
      if (!ok) {
        this.#logger.warn({ ...this.#logContext, drainTimeoutMs: this.#opts.drainTimeoutMs }, 'bus drain did not complete; closing');
        await nc.close().catch(() => undefined);
      }
    }
    await this.#supervisor;
    this.#setState('closed');
    this.metrics.connected.set(0);
    this.#logger.info({ ...this.#logContext }, 'bus closed');
  }

  async #run(): Promise<void> {
    let failures = 0;
    let lastLoggedFailure = 0;
    while (!this.#closing) {
      let nc: NatsConnection;
      if (this.#connectedOnce) this.#setState('reconnecting');
      try {
        nc = await this.#connect(this.#natsOptions());
      } catch (err) {
        failures++;
        const text = this.#errorText(err);
        this.#snapshot.lastError = text;
        const auth = isAuthError(err);
        const now = Date.now();
        // The first failure, then at most one warning per 30 s; every attempt at debug.
        if (failures === 1 || now - lastLoggedFailure >= 30_000) {
          this.#logger.warn({ ...this.#logContext, attempts: failures, err: text }, auth ? 'NATS refused the credentials; retrying' : 'cannot connect to NATS; retrying');
          lastLoggedFailure = now;
        } else {
          this.#logger.debug({ ...this.#logContext, attempts: failures, err: text }, 'NATS connect attempt failed');
        }
        if (auth && !this.#connectedOnce && this.#opts.waitForFirstConnect) {
          const who = this.#opts.user !== undefined ? `user '${this.#opts.user}'` : this.#opts.token !== undefined ? 'the token' : 'an anonymous connection';
          this.#firstConnect.reject(new BusConnectError(`NATS (${this.#opts.servers.join(', ')}) refused ${who}: ${text}`));
        }
        await this.#sleep(reconnectDelay(this.#opts));
        continue;
      }
      if (this.#closing) {
        await nc.close().catch(() => undefined);
        break;
      }
      failures = 0;
      await this.#session(nc);
      if (!this.#closing) await this.#sleep(reconnectDelay(this.#opts));
    }
  }

  /** One NATS connection, from connected until it is closed (by close() or by the client giving up). */
  async #session(nc: NatsConnection): Promise<void> {
    const statusLoop = this.#watchStatus(nc);
    this.#nc = nc;
    this.#snapshot.server = nc.getServer();
    this.#snapshot.lastError = undefined;
    const wasConnected = this.#connectedOnce;
    this.#connectedOnce = true;
    this.#setState('connected');
    this.metrics.connected.set(1);
    if (wasConnected) this.metrics.reconnects.inc();
    this.#logger.info({ ...this.#logContext, server: nc.getServer() }, wasConnected ? 'bus connected again (new connection)' : 'bus connected');
    for (const record of this.#subs) this.#attach(nc, record);
    this.#firstConnect.resolve();

    const closedWith = await nc.closed();
    await statusLoop;
    this.#nc = undefined;
    for (const record of this.#subs) record.active = undefined;
    this.metrics.connected.set(0);
    if (this.#closing) return;
    const text = closedWith instanceof Error ? this.#errorText(closedWith) : undefined;
    if (text !== undefined) this.#snapshot.lastError = text;
    this.#setState('disconnected');
    this.#logger.warn({ ...this.#logContext, err: text }, 'NATS connection closed by the client; starting a new one');
  }

  async #watchStatus(nc: NatsConnection): Promise<void> {
    try {
      for await (const s of nc.status()) {
        this.#onStatus(s);
        if (s.type === 'close') break;
      }
    } catch (err) {
      this.#logger.warn({ ...this.#logContext, err: this.#errorText(err) }, 'bus status watch ended');
    }
  }

  #onStatus(s: Status): void {
    switch (s.type) {
      case 'disconnect':
        this.metrics.connected.set(0);
        this.#snapshot.server = s.server;
        this.#logger.warn({ ...this.#logContext, server: s.server }, 'bus disconnected from NATS; reconnecting');
        break;
      case 'reconnect':
        this.#snapshot.server = s.server;
        this.#snapshot.lastError = undefined;
        this.metrics.connected.set(1);
        this.metrics.reconnects.inc();
        this.#logger.info({ ...this.#logContext, server: s.server }, 'bus reconnected to NATS');
        break;
      case 'error':
        this.#snapshot.lastError = this.#errorText(s.error);
        this.#logger.warn({ ...this.#logContext, err: this.#snapshot.lastError }, 'NATS reported an error');
        break;
      case 'ldm':
        this.#logger.info({ ...this.#logContext, server: s.server }, 'NATS server entering lame duck mode');
        break;
      case 'slowConsumer':
        this.#logger.warn({ ...this.#logContext, subject: s.sub.getSubject(), pending: s.pending }, 'bus subscription is a slow consumer');
        break;
      case 'staleConnection':
        this.#logger.warn({ ...this.#logContext }, 'NATS connection stale (pings unanswered)');
        break;
      default:
        break;
    }
    if (s.type === 'close') return; // the session decides what a close means
    this.#setState(nextState(this.state, s));
  }

  #attach(nc: NatsConnection, record: SubscriptionRecord): void {
    if (record.removed) return;
    let sub: Subscription;
    try {
      sub = nc.subscribe(record.pattern, record.queue === undefined ? {} : { queue: record.queue });
    } catch (err) {
      this.#logger.error({ ...this.#logContext, subject: record.pattern, err: this.#errorText(err) }, 'bus subscribe failed');
      return;
    }
    record.active = sub;
    (async () => {
      try {
        for await (const m of sub) {
          await record.dispatch(m.subject, m.data);
        }
      } catch (err) {
        // e.g. a permissions violation for this subject: the server refused the subscription.
        this.#logger.error({ ...this.#logContext, subject: record.pattern, err: this.#errorText(err) }, 'bus subscription ended with an error');
      }
    })();
  }

  #natsOptions(): ConnectionOptions {
    const o = this.#opts;
    const opts: ConnectionOptions = {
      servers: o.servers,
      name: o.name,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: o.reconnectTimeWaitMs,
      reconnectJitter: o.reconnectJitterMs,
      reconnectJitterTLS: o.reconnectJitterMs,
      timeout: o.connectTimeoutMs,
      pingInterval: o.pingIntervalMs,
      maxPingOut: o.maxPingOut,
      waitOnFirstConnect: false, // the first connect is retried by #run, which close() can interrupt
    };
    if (o.user !== undefined) {
      opts.user = o.user;
      opts.pass = o.password;
    }
    if (o.token !== undefined) opts.token = o.token;
    return opts;
  }

  #setState(next: BusState): void {
    const previous = this.#snapshot.state;
    if (previous === next || previous === 'closed') return;
    this.#snapshot.state = next;
    this.#snapshot.since = Date.now();
    for (const l of this.#listeners) {
      try {
        l(next, previous);
      } catch (err) {
        this.#logger.warn({ ...this.#logContext, err: this.#errorText(err) }, 'bus state listener threw');
      }
    }
  }

  #errorText(err: unknown): string {
    const text = err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}` : String(err);
    return this.#redact(text);
  }

  #sleep(ms: number): Promise<void> {
    const signal = this.#stop.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
