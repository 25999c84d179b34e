import { createConnection, type Socket } from 'node:net';
import { ViciConnectionError, ViciError, ViciProtocolError, ViciTimeoutError } from './errors.ts';
import type { ViciSection } from './message.ts';
import { decodePacket, encodePacket, SegmentReader, type ViciOutgoingPacket, type ViciPacket } from './packet.ts';

export type ViciEventListener = (name: string, message: ViciSection) => void;

interface Pending {
  readonly label: string;
  readonly accepts: ReadonlySet<ViciPacket['type']>;
  resolve(packet: ViciPacket): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * One stream connection to charon's VICI socket.
 *
 * VICI has no sequence numbers, so at most one command or (un)registration may be outstanding; callers
 * serialise through `exchange`, which refuses a second concurrent exchange. EVENT packets may arrive at any
 * time (also in the middle of a command, which is how list-sas streams its results) and go to listeners.
 * Any protocol error or timeout closes the connection: after it the byte stream cannot be trusted.
 */
export class ViciConnection {
  readonly socketPath: string;
  private socket: Socket | undefined;
  private readonly reader = new SegmentReader();
  private pending: Pending | undefined;
  private readonly listeners = new Map<string, Set<ViciEventListener>>();
  private readonly closeListeners = new Set<(err: Error | undefined) => void>();
  private closedWith: Error | undefined;
  private closed = false;

  private constructor(socketPath: string) {
    this.socketPath = socketPath;
  }

  /** Connects to the unix socket; a missing or refusing socket gives a ViciConnectionError naming the path. */
  static connect(socketPath: string, timeoutMs = 5_000): Promise<ViciConnection> {
    const conn = new ViciConnection(socketPath);
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path: socketPath });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ViciConnectionError(`VICI socket ${socketPath}: no connection within ${timeoutMs} ms`, socketPath, 'ETIMEDOUT'));
      }, timeoutMs);
      const onError = (err: NodeJS.ErrnoException): void => {
        clearTimeout(timer);
        reject(connectError(socketPath, err));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        conn.attach(socket);
        resolve(conn);
      });
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      this.shutdown(new ViciConnectionError(`VICI socket ${this.socketPath}: ${err.code ?? err.message}`, this.socketPath, err.code, { cause: err })),
    );
    socket.on('close', () => this.shutdown(new ViciConnectionError(`VICI socket ${this.socketPath} closed by the daemon`, this.socketPath, 'ECONNRESET')));
  }

  private onData(chunk: Buffer): void {
    let packets: ViciPacket[];
    try {
      packets = this.reader.push(chunk).map((segment) => decodePacket(segment));
    } catch (err) {
      this.shutdown(err as ViciProtocolError);
      return;
    }
    for (const packet of packets) this.dispatch(packet);
  }

  private dispatch(packet: ViciPacket): void {
    if (packet.type === 'EVENT') {
      for (const listener of this.listeners.get(packet.name) ?? []) {
        try {
          listener(packet.name, packet.message);
        } catch {
          // A listener's failure is its own business; the stream goes on.
        }
      }
      return;
    }
    const pending = this.pending;
    if (!pending || !pending.accepts.has(packet.type)) {
      this.shutdown(new ViciProtocolError(`unexpected VICI ${packet.type} packet${pending ? ` while waiting for the answer to ${pending.label}` : ' with nothing outstanding'}`));
      return;
    }
    this.pending = undefined;
    if (pending.timer) clearTimeout(pending.timer);
    pending.resolve(packet);
  }

  /**
   * Sends one packet and resolves with the reply of an accepted type. `timeoutMs` = 0 waits forever.
   * The label names the exchange in errors (a command name, never message content).
   */
  exchange(packet: ViciOutgoingPacket, accepts: readonly ViciPacket['type'][], label: string, timeoutMs: number): Promise<ViciPacket> {
    if (this.closed) return Promise.reject(this.closedWith ?? new ViciConnectionError(`VICI socket ${this.socketPath} is closed`, this.socketPath));
    if (this.pending) return Promise.reject(new ViciError(`VICI ${label} sent while ${this.pending.label} is outstanding (exchanges must be serialised)`));
    let bytes: Buffer;
    try {
      bytes = encodePacket(packet);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise<ViciPacket>((resolve, reject) => {
      const pending: Pending = { label, accepts: new Set(accepts), resolve, reject, timer: undefined };
      if (timeoutMs > 0) {
        pending.timer = setTimeout(() => {
          if (this.pending !== pending) return;
          this.shutdown(new ViciTimeoutError(label, timeoutMs));
        }, timeoutMs);
      }
      this.pending = pending;
      this.socket!.write(bytes);
    });
  }

  on(event: string, listener: ViciEventListener): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(event);
    };
  }

  /** Called once when the connection ends: `err` is undefined after a local close(). */
  onClose(listener: (err: Error | undefined) => void): () => void {
    if (this.closed) {
      queueMicrotask(() => listener(this.closedWith));
      return () => undefined;
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  close(): void {
    this.shutdown(undefined);
  }

  private shutdown(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.closedWith = err;
    this.socket?.destroy();
    const pending = this.pending;
    this.pending = undefined;
    if (pending) {
      if (pending.timer) clearTimeout(pending.timer);
      pending.reject(err ?? new ViciConnectionError(`VICI connection to ${this.socketPath} closed while ${pending.label} was outstanding`, this.socketPath));
    }
    for (const listener of this.closeListeners) listener(err);
    this.closeListeners.clear();
    this.listeners.clear();
  }
}

function connectError(socketPath: string, err: NodeJS.ErrnoException): ViciConnectionError {
  const hint =
    err.code === 'ENOENT'
      ? 'no such socket: charon is not running, or its vici plugin listens elsewhere'
      : err.code === 'ECONNREFUSED'
        ? 'connection refused: a stale socket file, charon is not listening'
        : err.code === 'EACCES'
          ? 'permission denied'
          : (err.message ?? 'connect failed');
  return new ViciConnectionError(`VICI socket ${socketPath} unreachable (${err.code ?? 'error'}): ${hint}`, socketPath, err.code, { cause: err });
}
