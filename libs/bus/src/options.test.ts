import { describe, expect, it } from 'vitest';
import { silentLogger } from './logger.ts';
import { authDescription, BusOptionsError, normalizeServer, reconnectDelay, resolveOptions, secretRedactor, type BusOptions } from './options.ts';

const base: BusOptions = { servers: 'nats://127.0.0.1:4222', name: 'test', logger: silentLogger };

describe('normalizeServer', () => {
  it.each([
    ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4222'],
    ['127.0.0.1:4333', 'nats://127.0.0.1:4333'],
    ['nats.example.org', 'nats://nats.example.org:4222'],
    ['tls://nats.example.org:7422', 'tls://nats.example.org:7422'],
    ['nats://[::1]:4222', 'nats://[::1]:4222'],
  ])('%s → %s', (raw, want) => expect(normalizeServer(raw, 0)).toBe(want));

  it.each([
    ['', /servers\[0\]' must be a non-empty string/],
    ['http://x:80', /unsupported scheme 'http'/],
    ['nats://u:p@host:4222', /must not carry credentials/],
    ['nats://host:4222/path', /without a path/],
    ['nats://host:99999', /not a valid server address/],
    ['a b', /whitespace/],
  ])('rejects %j', (raw, re) => {
    expect(() => normalizeServer(raw, 0)).toThrow(BusOptionsError);
    expect(() => normalizeServer(raw, 0)).toThrow(re);
  });

  it('never echoes credentials embedded in a URL', () => {
    try {
      normalizeServer('nats://user:hunter2@host:4222', 3);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
      expect((err as Error).message).toContain('servers[3]');
    }
  });
});

describe('resolveOptions', () => {
  it('applies defaults: background first connect, jittered reconnect', () => {
    const o = resolveOptions(base);
    expect(o).toMatchObject({ servers: ['nats://127.0.0.1:4222'], waitForFirstConnect: false, reconnectTimeWaitMs: 1000, reconnectJitterMs: 500 });
  });

  it.each([
    [{ servers: [] }, 'servers', /at least one/],
    [{ name: '' }, 'name', /non-empty/],
    [{ user: 'u' }, 'user', /requires password/],
    [{ password: 'p' }, 'password', /requires user/],
    [{ user: 'u', password: 'p', token: 't' }, 'token', /cannot be combined/],
    [{ token: '' }, 'token', /non-empty/],
    [{ reconnectTimeWaitMs: 0 }, 'reconnectTimeWaitMs', />= 1/],
    [{ reconnectJitterMs: -1 }, 'reconnectJitterMs', />= 0/],
    [{ logger: undefined }, 'logger', /required/],
  ])('rejects %j naming the field', (patch, field, re) => {
    try {
      resolveOptions({ ...base, ...(patch as Partial<BusOptions>) });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(BusOptionsError);
      expect((err as BusOptionsError).field).toBe(field);
      expect((err as Error).message).toMatch(re);
    }
  });

  it('keeps secrets out of option errors', () => {
    expect(() => resolveOptions({ ...base, password: 'hunter2' })).toThrow(/requires user/);
    try {
      resolveOptions({ ...base, password: 'hunter2' });
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});

describe('helpers', () => {
  it('describes authentication without secrets', () => {
    expect(authDescription({ user: 'svc', token: undefined })).toEqual({ auth: 'user', user: 'svc' });
    expect(authDescription({ token: 'abc' })).toEqual({ auth: 'token' });
    expect(authDescription({})).toEqual({ auth: 'none' });
  });

  it('redacts every secret occurrence', () => {
    const r = secretRedactor(['pw', undefined, 'longer-pw', '']);
    expect(r('a longer-pw b pw c')).toBe('a [REDACTED] b [REDACTED] c');
  });

  it('jitters the reconnect wait within [wait, wait + jitter]', () => {
    const o = { reconnectTimeWaitMs: 1000, reconnectJitterMs: 500 };
    expect(reconnectDelay(o, () => 0)).toBe(1000);
    expect(reconnectDelay(o, () => 0.999999)).toBe(1500);
    const seen = new Set(Array.from({ length: 50 }, () => reconnectDelay(o)));
    expect(seen.size).toBeGreaterThan(1);
  });
});
