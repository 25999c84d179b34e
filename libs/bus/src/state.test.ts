import { describe, expect, it } from 'vitest';
import { nextState, readiness, type BusState } from './state.ts';

describe('nextState', () => {
  it('follows the NATS status events', () => {
    let s: BusState = 'connected';
    const seen: BusState[] = [];
    for (const type of ['staleConnection', 'disconnect', 'reconnecting', 'reconnecting', 'error', 'reconnect', 'ping', 'update']) {
      s = nextState(s, { type });
      seen.push(s);
    }
    expect(seen).toEqual(['connected', 'disconnected', 'reconnecting', 'reconnecting', 'reconnecting', 'connected', 'connected', 'connected']);
  });

  it('stays connecting while the first connect is dialing, and closed forever', () => {
    expect(nextState('connecting', { type: 'reconnecting' })).toBe('connecting');
    expect(nextState('closed', { type: 'reconnect' })).toBe('closed');
  });
});

describe('readiness', () => {
  it('is ok only when connected', () => {
    expect(readiness({ state: 'connected', since: 0 })).toEqual({ ok: true });
    expect(readiness({ state: 'reconnecting', since: 0, server: '127.0.0.1:4222', lastError: 'connection refused' }, 12_400)).toEqual({
      ok: false,
      reason: 'NATS reconnecting for 12s (server 127.0.0.1:4222): connection refused',
    });
    expect(readiness({ state: 'connecting', since: 0 }, 0)).toEqual({ ok: false, reason: 'NATS connecting for 0s' });
    expect(readiness({ state: 'closed', since: 0, lastError: 'x' }, 0)).toEqual({ ok: false, reason: 'NATS closed for 0s' });
  });
});
