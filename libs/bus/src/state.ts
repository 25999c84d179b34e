/**
 * Connection state of the bus, driven by the NATS client's status events, and the readiness derived
 * from it. Pure: no timers, no I/O.
 */

/**
 * - `connecting`: no connection yet (the first connect is still being retried)
 * - `connected`: a server accepted the connection
 * - `disconnected`: the connection to the server was lost; a reconnect follows
 * - `reconnecting`: dialing a server again
 * - `closed`: `close()` was called (terminal)
 */
export type BusState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'closed';

export interface Readiness {
  ok: boolean;
  reason?: string;
}

/** The subset of NATS status events that move the state. */
export type StatusEvent = { type: string };

/** The state after a NATS status event, or the current one when the event does not change it. */
export function nextState(current: BusState, event: StatusEvent): BusState {
  if (current === 'closed') return 'closed';
  switch (event.type) {
    case 'disconnect':
      return 'disconnected';
    case 'reconnecting':
      // The client announces every dial attempt, the first one included.
      return current === 'connecting' ? 'connecting' : 'reconnecting';
    case 'reconnect':
      return 'connected';
    case 'close':
      return 'disconnected'; // the owner decides whether this is final (close()) or a new session follows
    default:
      return current;
  }
}

export interface StateSnapshot {
  state: BusState;
  /** Since when (ms epoch) the bus is in this state. */
  since: number;
  /** The server last connected to or dialed (host:port, no credentials). */
  server?: string;
  /** The last connection error, already free of secrets. */
  lastError?: string;
}

export function readiness(s: StateSnapshot, now: number = Date.now()): Readiness {
  if (s.state === 'connected') return { ok: true };
  const seconds = Math.max(0, Math.round((now - s.since) / 1000));
  let reason = `NATS ${s.state} for ${seconds}s`;
  if (s.server !== undefined) reason += ` (server ${s.server})`;
  if (s.lastError !== undefined && s.state !== 'closed') reason += `: ${s.lastError}`;
  return { ok: false, reason };
}
