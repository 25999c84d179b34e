import { ViciConnection } from './connection.ts';
import { ViciCommandError, ViciError } from './errors.ts';
import type { ViciInput, ViciSection } from './message.ts';
import type { ViciPacket } from './packet.ts';

export const DEFAULT_VICI_SOCKET = '/var/run/charon.vici';

export interface ViciClientOptions {
  /** charon's `charon.plugins.vici.socket` path (without the `unix://` prefix). */
  readonly socketPath?: string;
  readonly connectTimeoutMs?: number;
  /** Client-side deadline for a command's answer (initiate/terminate add their own timeout to it). */
  readonly commandTimeoutMs?: number;
}

export interface ViciVersion {
  readonly daemon: string;
  readonly version: string;
  readonly sysname: string;
  readonly release: string;
  readonly machine: string;
}

export interface LoadSharedRequest {
  /** Unique identifier of the secret, so it can be replaced or unloaded later. */
  readonly id: string;
  readonly type: 'IKE' | 'EAP' | 'XAUTH' | 'NTLM' | 'PPK';
  /** The secret. Never logged, never part of an error. */
  readonly data: string;
  readonly owners: readonly string[];
}

export interface InitiateRequest {
  readonly child: string;
  readonly ike?: string;
  /** Milliseconds charon waits for the result before answering; also bounds the client-side wait. */
  readonly timeoutMs?: number;
  readonly initLimits?: boolean;
}

export interface TerminateRequest {
  readonly ike?: string;
  readonly child?: string;
  readonly ikeId?: number;
  readonly childId?: number;
  readonly force?: boolean;
  readonly timeoutMs?: number;
}

export interface ListSasRequest {
  readonly ike?: string;
  readonly ikeId?: number;
  readonly noblock?: boolean;
}

export interface ViciEvent {
  readonly name: string;
  readonly message: ViciSection;
}

/** The subset of the VICI client that drivers use; implemented by ViciClient and the in-memory fake. */
export interface ViciPort {
  version(): Promise<ViciVersion>;
  loadConn(name: string, config: ViciInput): Promise<void>;
  unloadConn(name: string): Promise<void>;
  getConns(): Promise<string[]>;
  loadShared(req: LoadSharedRequest): Promise<void>;
  unloadShared(id: string): Promise<void>;
  getShared(): Promise<string[]>;
  initiate(req: InitiateRequest): Promise<void>;
  terminate(req: TerminateRequest): Promise<void>;
  /** One entry per IKE_SA: `{ <ike config name>: { state, child-sas, ... } }` as streamed by list-sa events. */
  listSas(req?: ListSasRequest): Promise<ViciSection[]>;
  listConns(ike?: string): Promise<ViciSection[]>;
  subscribe(events: readonly string[], signal?: AbortSignal): Promise<ViciSubscription>;
  close(): void;
}

/** An event subscription on its own connection: iterate it, close it to unregister. */
export interface ViciSubscription extends AsyncIterable<ViciEvent> {
  close(): void;
}

/**
 * Client for charon's VICI socket.
 *
 * Commands go over one lazily opened connection and are strictly serialised (the protocol has no request
 * ids). A connection that failed (daemon restart, timeout, protocol error) is dropped and the next command
 * opens a new one. Event subscriptions each use their own connection. Nothing here logs, and errors carry
 * command names and charon's error strings only, never message values (PSKs travel in load-shared).
 */
export class ViciClient implements ViciPort {
  readonly socketPath: string;
  private readonly connectTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  private conn: ViciConnection | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly subscriptions = new Set<ViciSubscription>();
  private closed = false;

  constructor(options: ViciClientOptions = {}) {
    this.socketPath = options.socketPath ?? DEFAULT_VICI_SOCKET;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 30_000;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs `fn` with exclusive use of the command connection (the serial queue). */
  private exclusive<T>(fn: (conn: ViciConnection) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.closed) throw new ViciError('VICI client is closed');
      if (!this.conn || !this.conn.isOpen) this.conn = await ViciConnection.connect(this.socketPath, this.connectTimeoutMs);
      return fn(this.conn);
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private static async command(conn: ViciConnection, command: string, message: ViciInput | undefined, timeoutMs: number): Promise<ViciSection> {
    const reply = await conn.exchange({ type: 'CMD_REQUEST', name: command, message }, ['CMD_RESPONSE', 'CMD_UNKNOWN'], `command '${command}'`, timeoutMs);
    if (reply.type === 'CMD_UNKNOWN') throw new ViciCommandError(command, 'the daemon does not know this command');
    return (reply as Extract<ViciPacket, { type: 'CMD_RESPONSE' }>).message;
  }

  private static async registration(conn: ViciConnection, type: 'EVENT_REGISTER' | 'EVENT_UNREGISTER', event: string, timeoutMs: number): Promise<void> {
    const verb = type === 'EVENT_REGISTER' ? 'register' : 'unregister';
    const reply = await conn.exchange({ type, name: event }, ['EVENT_CONFIRM', 'EVENT_UNKNOWN'], `${verb} event '${event}'`, timeoutMs);
    if (reply.type === 'EVENT_UNKNOWN') throw new ViciCommandError(`${verb} ${event}`, 'the daemon has no such event');
  }

  /** A plain command; `success = no` in the answer becomes a ViciCommandError carrying charon's errmsg. */
  request(command: string, message?: ViciInput, timeoutMs = this.commandTimeoutMs): Promise<ViciSection> {
    return this.exclusive(async (conn) => checkSuccess(command, await ViciClient.command(conn, command, message, timeoutMs)));
  }

  /**
   * A streamed command: registers `event`, sends the command, collects the events raised until the answer,
   * unregisters. The three steps hold the queue, so no other command interleaves with the stream.
   */
  streamedRequest(command: string, event: string, message?: ViciInput, timeoutMs = this.commandTimeoutMs): Promise<{ events: ViciSection[]; response: ViciSection }> {
    return this.exclusive(async (conn) => {
      const events: ViciSection[] = [];
      const off = conn.on(event, (_name, msg) => events.push(msg));
      try {
        await ViciClient.registration(conn, 'EVENT_REGISTER', event, timeoutMs);
        let response: ViciSection;
        try {
          response = await ViciClient.command(conn, command, message, timeoutMs);
        } finally {
          if (conn.isOpen) await ViciClient.registration(conn, 'EVENT_UNREGISTER', event, timeoutMs).catch(() => undefined);
        }
        return { events, response: checkSuccess(command, response) };
      } finally {
        off();
      }
    });
  }

  async version(): Promise<ViciVersion> {
    const r = await this.request('version');
    return { daemon: str(r['daemon']), version: str(r['version']), sysname: str(r['sysname']), release: str(r['release']), machine: str(r['machine']) };
  }

  async loadConn(name: string, config: ViciInput): Promise<void> {
    await this.request('load-conn', { [name]: config });
  }

  async unloadConn(name: string): Promise<void> {
    await this.request('unload-conn', { name });
  }

  async getConns(): Promise<string[]> {
    const r = await this.request('get-conns');
    return Array.isArray(r['conns']) ? r['conns'] : [];
  }

  async loadShared(req: LoadSharedRequest): Promise<void> {
    await this.request('load-shared', { id: req.id, type: req.type, data: req.data, owners: req.owners });
  }

  async unloadShared(id: string): Promise<void> {
    await this.request('unload-shared', { id });
  }

  async getShared(): Promise<string[]> {
    const r = await this.request('get-shared');
    return Array.isArray(r['keys']) ? r['keys'] : [];
  }

  async initiate(req: InitiateRequest): Promise<void> {
    const timeoutMs = req.timeoutMs ?? 10_000;
    await this.request('initiate', { child: req.child, ike: req.ike, timeout: timeoutMs, 'init-limits': req.initLimits }, timeoutMs + this.commandTimeoutMs);
  }

  async terminate(req: TerminateRequest): Promise<void> {
    const timeoutMs = req.timeoutMs ?? 10_000;
    await this.request(
      'terminate',
      { ike: req.ike, child: req.child, ike_id: req.ikeId, child_id: req.childId, force: req.force, timeout: timeoutMs },
      timeoutMs + this.commandTimeoutMs,
    );
  }

  async listSas(req: ListSasRequest = {}): Promise<ViciSection[]> {
    const { events } = await this.streamedRequest('list-sas', 'list-sa', { ike: req.ike, ike_id: req.ikeId, noblock: req.noblock });
    return events;
  }

  async listConns(ike?: string): Promise<ViciSection[]> {
    const { events } = await this.streamedRequest('list-conns', 'list-conn', { ike });
    return events;
  }

  /**
   * Registers the named events (e.g. `ike-updown`, `child-updown`) on a dedicated connection and returns an
   * async iterator over them. Iteration ends after close() or abort; it throws if the daemon goes away.
   */
  async subscribe(events: readonly string[], signal?: AbortSignal): Promise<ViciSubscription> {
    if (this.closed) throw new ViciError('VICI client is closed');
    if (events.length === 0) throw new ViciError('VICI subscribe needs at least one event name');
    const conn = await ViciConnection.connect(this.socketPath, this.connectTimeoutMs);
    const queue = new EventQueue();
    for (const e of events) conn.on(e, (name, message) => queue.push({ name, message }));
    conn.onClose((err) => queue.end(err));
    try {
      for (const e of events) await ViciClient.registration(conn, 'EVENT_REGISTER', e, this.commandTimeoutMs);
    } catch (err) {
      conn.close();
      throw err;
    }
    const sub: ViciSubscription = {
      close: () => {
        this.subscriptions.delete(sub);
        conn.close();
        queue.end(undefined);
      },
      [Symbol.asyncIterator]: () => queue.iterator(() => sub.close()),
    };
    this.subscriptions.add(sub);
    if (signal) {
      if (signal.aborted) sub.close();
      else signal.addEventListener('abort', () => sub.close(), { once: true });
    }
    return sub;
  }

  close(): void {
    this.closed = true;
    this.conn?.close();
    this.conn = undefined;
    for (const sub of [...this.subscriptions]) sub.close();
  }
}

function checkSuccess(command: string, response: ViciSection): ViciSection {
  if (response['success'] === 'no') {
    const errmsg = typeof response['errmsg'] === 'string' ? response['errmsg'] : undefined;
    throw new ViciCommandError(command, errmsg ?? 'the daemon reported failure without a message', errmsg);
  }
  return response;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Push queue behind a subscription's async iterator. */
class EventQueue {
  private readonly items: ViciEvent[] = [];
  private waiter: { resolve(r: IteratorResult<ViciEvent>): void; reject(e: Error): void } | undefined;
  private done = false;
  private error: Error | undefined;

  push(event: ViciEvent): void {
    if (this.done) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: event, done: false });
    } else this.items.push(event);
  }

  end(err: Error | undefined): void {
    if (this.done) return;
    this.done = true;
    this.error = err;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      if (err) w.reject(err);
      else w.resolve({ value: undefined, done: true });
    }
  }

  iterator(onReturn: () => void): AsyncIterator<ViciEvent> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item) return Promise.resolve({ value: item, done: false });
        if (this.done) {
          if (this.error) {
            const err = this.error;
            this.error = undefined;
            return Promise.reject(err);
          }
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
      },
      return: () => {
        onReturn();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
