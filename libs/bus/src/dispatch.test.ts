import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createDispatcher } from './dispatch.ts';
import { BusMetrics } from './metrics.ts';
import { TunnelStatusSubject, type TunnelStatusPayload } from './subjects.ts';
import { recordingLogger } from './testing-logger.ts';

const subject = 'strait.east.tunnel.west.status';
const valid: TunnelStatusPayload = { cluster: 'east', peer: 'west', status: 'Connected', rttMs: 2, timestamp: '2026-01-02T03:04:05Z' };
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

async function value(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  const found = m?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return found?.value ?? 0;
}

function setup(handler: (p: TunnelStatusPayload) => void | Promise<void> = () => undefined) {
  const registry = new Registry();
  const metrics = new BusMetrics(registry);
  const logger = recordingLogger();
  const got: TunnelStatusPayload[] = [];
  let clock = 0;
  const dispatch = createDispatcher({
    def: TunnelStatusSubject,
    handler: async (p, meta) => {
      expect(meta.params).toEqual({ cluster: 'east', peer: 'west' });
      got.push(p);
      await handler(p);
    },
    metrics,
    logger,
    now: () => clock,
  });
  return { registry, logger, got, dispatch, tick: (ms: number) => (clock += ms) };
}

describe('dispatcher: drop-and-count', () => {
  it('delivers valid messages', async () => {
    const { dispatch, got, registry } = setup();
    expect(await dispatch(subject, bytes(JSON.stringify(valid)))).toEqual({ delivered: true });
    expect(got).toEqual([valid]);
    expect(await value(registry, 'strait_bus_messages_received_total', { subject_kind: 'tunnel_status' })).toBe(1);
  });

  it('drops and counts every kind of malformed message while valid ones keep flowing', async () => {
    const { dispatch, got, registry, logger } = setup();
    const feed: Array<[Uint8Array, string | undefined, string]> = [
      [bytes('not json at all'), 'invalid_json', subject],
      [bytes(JSON.stringify(valid)), undefined, subject],
      [bytes(JSON.stringify({ ...valid, status: 'Sideways' })), 'schema_mismatch', subject],
      [bytes('[]'), 'schema_mismatch', subject],
      [bytes(JSON.stringify(valid)), 'subject_mismatch', 'strait.east.tunnel.north.status'],
      [bytes(JSON.stringify({ ...valid, pad: 'x'.repeat(100_000) })), 'too_large', subject],
      [new Uint8Array([0xc3, 0x28]), 'invalid_json', subject],
      [bytes(JSON.stringify(valid)), undefined, subject],
    ];
    for (const [data, reason, subj] of feed) {
      const out = await dispatch(subj, data);
      expect(out).toEqual(reason === undefined ? { delivered: true } : { delivered: false, reason });
    }
    expect(got).toHaveLength(2);
    const dropped = (reason: string) => value(registry, 'strait_bus_messages_dropped_total', { subject_kind: 'tunnel_status', reason });
    expect(await dropped('invalid_json')).toBe(2);
    expect(await dropped('schema_mismatch')).toBe(2);
    expect(await dropped('subject_mismatch')).toBe(1);
    expect(await dropped('too_large')).toBe(1);
    expect(await value(registry, 'strait_bus_messages_received_total', { subject_kind: 'tunnel_status' })).toBe(8);
    // Drops are logged with their reason (invalid_json twice within the interval: logged once).
    const warned = logger.entries.filter((e) => e.level === 'warn').map((e) => e.obj.reason);
    expect(warned).toEqual(['invalid_json', 'schema_mismatch', 'subject_mismatch', 'too_large']);
  });

  it('rate-limits drop warnings but reports how many were suppressed', async () => {
    const { dispatch, logger, tick, registry } = setup();
    for (let i = 0; i < 5; i++) await dispatch(subject, bytes('{'));
    tick(10_000);
    await dispatch(subject, bytes('{'));
    const warns = logger.entries.filter((e) => e.level === 'warn');
    expect(warns).toHaveLength(2);
    expect(warns[1]?.obj.suppressedSinceLastLog).toBe(4);
    expect(await value(registry, 'strait_bus_messages_dropped_total', { reason: 'invalid_json' })).toBe(6);
  });

  it('catches, logs and counts handler exceptions and rejections without stopping', async () => {
    let calls = 0;
    const { dispatch, logger, registry } = setup(async () => {
      calls++;
      if (calls === 1) throw new Error('boom');
      if (calls === 2) return Promise.reject(new Error('async boom'));
    });
    expect(await dispatch(subject, bytes(JSON.stringify(valid)))).toEqual({ delivered: false, reason: 'handler_error' });
    expect(await dispatch(subject, bytes(JSON.stringify(valid)))).toEqual({ delivered: false, reason: 'handler_error' });
    expect(await dispatch(subject, bytes(JSON.stringify(valid)))).toEqual({ delivered: true });
    expect(await value(registry, 'strait_bus_messages_dropped_total', { reason: 'handler_error' })).toBe(2);
    const errs = logger.entries.filter((e) => e.level === 'error');
    expect(errs[0]?.obj.err).toBeInstanceOf(Error);
  });

  it('survives a throwing logger', async () => {
    const registry = new Registry();
    const throwing = () => {
      throw new Error('logger down');
    };
    const dispatch = createDispatcher({
      def: TunnelStatusSubject,
      handler: () => undefined,
      metrics: new BusMetrics(registry),
      logger: { debug: throwing, info: throwing, warn: throwing, error: throwing },
    });
    await expect(dispatch(subject, bytes('{'))).resolves.toMatchObject({ delivered: false });
  });
});

describe('BusMetrics', () => {
  it('can share one registry between buses', () => {
    const registry = new Registry();
    const a = new BusMetrics(registry);
    const b = new BusMetrics(registry);
    expect(b.dropped).toBe(a.dropped);
    expect(registry.getMetricsAsArray().map((m) => m.name).sort()).toEqual([
      'strait_bus_connected',
      'strait_bus_messages_dropped_total',
      'strait_bus_messages_published_total',
      'strait_bus_messages_received_total',
      'strait_bus_publish_failures_total',
      'strait_bus_reconnects_total',
    ]);
  });
});
