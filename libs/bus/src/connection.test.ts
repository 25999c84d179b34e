import { errors } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BusConnectError, connectBus, type ConnectFn } from './connection.ts';
import { PayloadValidationError } from './codec.ts';
import { TunnelStatusSubject } from './subjects.ts';
import { recordingLogger } from './testing-logger.ts';

const SECRET = 'pa55-w0rd-never-logged';
const payload = { cluster: 'east', peer: 'west', status: 'Connected', timestamp: '2026-01-02T03:04:05Z' } as const;

function failingConnect(make: () => Error): ConnectFn & { calls: number } {
  const fn = Object.assign(
    async () => {
      fn.calls++;
      throw make();
    },
    { calls: 0 },
  );
  return fn;
}

async function counter(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
}

describe('connectBus without a reachable server (fake connect)', () => {
  it('starts at once and keeps retrying in the background; readiness says why, without secrets', async () => {
    const logger = recordingLogger();
    const registry = new Registry();
    const connect = failingConnect(() => new errors.ConnectionError(`connection refused (tried with ${SECRET})`));
    const bus = await connectBus(
      { servers: 'nats://127.0.0.1:1', name: 'svc', user: 'svc-user', password: SECRET, logger, registry, reconnectTimeWaitMs: 5, reconnectJitterMs: 5 },
      { connect },
    );
    expect(bus.state).toBe('connecting');
    await expect.poll(() => connect.calls).toBeGreaterThanOrEqual(3);
    const r = bus.ready();
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^NATS connecting for \d+s: connection refused/);
    expect(r.reason).not.toContain(SECRET);

    // Subscribing before the first connect is allowed; publishing reports that nothing was sent.
    const sub = bus.subscribe(TunnelStatusSubject, { cluster: 'east' }, () => undefined);
    expect(sub.subject).toBe('strait.east.tunnel.*.status');
    expect(bus.publish(TunnelStatusSubject, { cluster: 'east', peer: 'west' }, payload)).toBe(false);
    expect(await counter(registry, 'strait_bus_publish_failures_total', { reason: 'not_connected' })).toBe(1);
    // Invalid input still throws.
    expect(() => bus.publish(TunnelStatusSubject, { cluster: 'east', peer: 'west' }, { ...payload, status: 'Up' } as never)).toThrow(PayloadValidationError);
    await expect(bus.flush()).rejects.toThrow(/not connected/);

    await bus.close();
    expect(bus.state).toBe('closed');
    const calls = connect.calls;
    await new Promise((r) => setTimeout(r, 50));
    expect(connect.calls).toBe(calls);
    expect(await counter(registry, 'strait_bus_connected', {})).toBe(0);

    const logs = logger.text();
    expect(logs).not.toContain(SECRET);
    expect(logs).toContain('svc-user');
    expect(logs).toContain('nats://127.0.0.1:1');
    // Repeated failures are logged once at warn, the rest at debug.
    expect(logger.entries.filter((e) => e.level === 'warn')).toHaveLength(1);
    expect(() => bus.subscribe(TunnelStatusSubject, '*', () => undefined)).toThrow(/closed/);
  });

  it('with waitForFirstConnect, rejects on refused credentials with a clear error', async () => {
    const logger = recordingLogger();
    const connect = failingConnect(() => new errors.AuthorizationError('Authorization Violation'));
    const err = await connectBus({ servers: 'nats://127.0.0.1:1', name: 'svc', token: SECRET, logger, waitForFirstConnect: true }, { connect }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BusConnectError);
    expect((err as Error).message).toBe('NATS (nats://127.0.0.1:1) refused the token: Authorization Violation');
    expect(connect.calls).toBe(1);
    expect(logger.text()).not.toContain(SECRET);
  });

  it('with waitForFirstConnect and a timeout, gives up after the timeout', async () => {
    const connect = failingConnect(() => new errors.ConnectionError('connection refused'));
    await expect(
      connectBus(
        { servers: 'nats://127.0.0.1:1', name: 'svc', logger: recordingLogger(), waitForFirstConnect: true, firstConnectTimeoutMs: 50, reconnectTimeWaitMs: 5 },
        { connect },
      ),
    ).rejects.toThrow(/could not connect to NATS \(nats:\/\/127\.0\.0\.1:1\) within 50 ms: connection refused/);
  });

  it('rejects invalid options before connecting', async () => {
    const connect = failingConnect(() => new Error('unused'));
    await expect(connectBus({ servers: [], name: 'svc', logger: recordingLogger() }, { connect })).rejects.toThrow(/bus option 'servers'/);
    expect(connect.calls).toBe(0);
  });
});
