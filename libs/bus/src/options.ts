/**
 * Options of connectBus: validation with clear errors (naming the field, never echoing a secret) and the
 * helpers that keep credentials out of logs and readiness reasons.
 */
import type { Registry } from 'prom-client';
import type { BusLogger } from './logger.ts';

export interface BusOptions {
  /** One or more NATS servers: `nats://host:port`, `tls://host:port` or `host:port`. */
  servers: string | readonly string[];
  /** Client name shown by the NATS server's monitoring (e.g. `tunnel-operator/<pod>`). */
  name: string;
  /** User/password authentication. */
  user?: string;
  password?: string;
  /** Token authentication (exclusive with user/password). */
  token?: string;
  logger: BusLogger;
  /** Registry for the bus metrics; a private one when omitted. */
  registry?: Registry;
  /**
   * When true, connectBus resolves only once connected (and rejects on an authentication failure or after
   * firstConnectTimeoutMs). Default false: connectBus resolves at once and the first connect is retried in
   * the background, so a service starts while NATS is down and becomes ready later.
   */
  waitForFirstConnect?: boolean;
  /** With waitForFirstConnect: give up after this long. Default: wait forever. */
  firstConnectTimeoutMs?: number;
  /** Base wait between connection attempts. Default 1000 ms. */
  reconnectTimeWaitMs?: number;
  /** Upper bound of the random delay added to each wait. Default 500 ms. */
  reconnectJitterMs?: number;
  /** Time allowed for one connection handshake. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Client pings; after maxPingOut unanswered pings the connection is considered stale. Default 10 000 ms. */
  pingIntervalMs?: number;
  maxPingOut?: number;
  /** Time allowed for close() to drain before the connection is closed hard. Default 5000 ms. */
  drainTimeoutMs?: number;
  /** Received messages above this size are dropped. Default 64 KiB. */
  maxPayloadBytes?: number;
}

export interface ResolvedBusOptions {
  servers: string[];
  name: string;
  user?: string;
  password?: string;
  token?: string;
  waitForFirstConnect: boolean;
  firstConnectTimeoutMs?: number;
  reconnectTimeWaitMs: number;
  reconnectJitterMs: number;
  connectTimeoutMs: number;
  pingIntervalMs: number;
  maxPingOut: number;
  drainTimeoutMs: number;
  maxPayloadBytes: number;
}

export class BusOptionsError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`bus option '${field}' ${message}`);
    this.name = 'BusOptionsError';
    this.field = field;
  }
}

const SCHEMES = new Set(['nats:', 'tls:']);

/** Validates one server address and returns it in `scheme://host:port` form. */
export function normalizeServer(raw: unknown, index: number): string {
  const field = `servers[${index}]`;
  if (typeof raw !== 'string' || raw.trim() === '') throw new BusOptionsError(field, 'must be a non-empty string');
  const text = raw.trim();
  if (/\s/.test(text)) throw new BusOptionsError(field, 'must not contain whitespace');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `nats://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new BusOptionsError(field, 'is not a valid server address (expected nats://host:port)');
  }
  if (url.username !== '' || url.password !== '') {
    throw new BusOptionsError(field, 'must not carry credentials; use the user/password or token options');
  }
  if (!SCHEMES.has(url.protocol)) throw new BusOptionsError(field, `has unsupported scheme '${url.protocol.slice(0, -1)}' (use nats:// or tls://)`);
  if (url.hostname === '') throw new BusOptionsError(field, 'has no host');
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw new BusOptionsError(field, 'must be scheme://host[:port] without a path or query');
  }
  const port = url.port === '' ? '4222' : url.port;
  return `${url.protocol}//${url.hostname}:${port}`;
}

function positive(field: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) throw new BusOptionsError(field, `must be a number >= ${min}`);
  return value;
}

function optionalString(field: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new BusOptionsError(field, 'must be a non-empty string when set');
  return value;
}

export function resolveOptions(opts: BusOptions): ResolvedBusOptions {
  if (typeof opts !== 'object' || opts === null) throw new BusOptionsError('options', 'must be an object');
  const list = typeof opts.servers === 'string' ? [opts.servers] : opts.servers;
  if (!Array.isArray(list) || list.length === 0) throw new BusOptionsError('servers', 'must list at least one server');
  const servers = list.map((s, i) => normalizeServer(s, i));
  if (typeof opts.name !== 'string' || opts.name.trim() === '') throw new BusOptionsError('name', 'must be a non-empty string');
  const user = optionalString('user', opts.user);
  const password = optionalString('password', opts.password);
  const token = optionalString('token', opts.token);
  if (password !== undefined && user === undefined) throw new BusOptionsError('password', 'requires user');
  if (user !== undefined && password === undefined) throw new BusOptionsError('user', 'requires password');
  if (token !== undefined && user !== undefined) throw new BusOptionsError('token', 'cannot be combined with user/password');
  if (typeof opts.logger !== 'object' || opts.logger === null) throw new BusOptionsError('logger', 'is required');
  const out: ResolvedBusOptions = {
    servers,
    name: opts.name,
    waitForFirstConnect: opts.waitForFirstConnect ?? false,
    reconnectTimeWaitMs: positive('reconnectTimeWaitMs', opts.reconnectTimeWaitMs, 1000),
    reconnectJitterMs: positive('reconnectJitterMs', opts.reconnectJitterMs, 500, 0),
    connectTimeoutMs: positive('connectTimeoutMs', opts.connectTimeoutMs, 5000),
    pingIntervalMs: positive('pingIntervalMs', opts.pingIntervalMs, 10_000),
    maxPingOut: positive('maxPingOut', opts.maxPingOut, 3),
    drainTimeoutMs: positive('drainTimeoutMs', opts.drainTimeoutMs, 5000),
    maxPayloadBytes: positive('maxPayloadBytes', opts.maxPayloadBytes, 64 * 1024),
  };
  if (user !== undefined) out.user = user;
  if (password !== undefined) out.password = password;
  if (token !== undefined) out.token = token;
  if (opts.firstConnectTimeoutMs !== undefined) out.firstConnectTimeoutMs = positive('firstConnectTimeoutMs', opts.firstConnectTimeoutMs, 0);
  return out;
}

/** How the bus authenticates, for logs: never the secret itself. */
export function authDescription(o: Pick<ResolvedBusOptions, 'user' | 'token'>): { auth: 'user' | 'token' | 'none'; user?: string } {
  if (o.user !== undefined) return { auth: 'user', user: o.user };
  if (o.token !== undefined) return { auth: 'token' };
  return { auth: 'none' };
}

/** Returns a function that replaces every occurrence of the given secrets in a text. */
export function secretRedactor(secrets: ReadonlyArray<string | undefined>): (text: string) => string {
  const list = secrets.filter((s): s is string => typeof s === 'string' && s.length > 0).sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const s of list) out = out.split(s).join('[REDACTED]');
    return out;
  };
}

/** The jittered wait before the next connection attempt. */
export function reconnectDelay(o: Pick<ResolvedBusOptions, 'reconnectTimeWaitMs' | 'reconnectJitterMs'>, random: () => number = Math.random): number {
  return o.reconnectTimeWaitMs + Math.floor(random() * (o.reconnectJitterMs + 1));
}
