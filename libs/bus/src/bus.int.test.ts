/**
 * The bus against a real nats-server: the shared control plane's server for round trips and
 * authentication, and a private one (startControlPlane, no clusters) for the restart test.
 */
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
// eslint-disable-next-line @nx/enforce-module-boundaries -- integration tests run against the real control plane from the test harness (type:testing)
import { sharedControlPlane, startControlPlane, type ControlPlane } from '@strait/testing';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BusConnectError, connectBus, type Bus } from './connection.ts';
import type { BusState } from './state.ts';
import { GatewayLeaderSubject, TunnelStatusSubject, type GatewayLeaderPayload, type TunnelStatusPayload } from './subjects.ts';
import { recordingLogger } from './testing-logger.ts';

const suffix = (): string => randomBytes(4).toString('hex');
const poll = { timeout: 15_000, interval: 20 };

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
}

function leader(cluster: string, n: number): GatewayLeaderPayload {
  return { cluster, holder: `gw-${n}`, node: `node-${n}`, leaseTransitions: n, timestamp: new Date().toISOString() };
}

const open: Bus[] = [];
const raw: NatsConnection[] = [];
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((b) => b.close()));
  await Promise.allSettled(raw.splice(0).map((c) => c.close()));
});

describe('bus on the shared nats-server', () => {
  const nats = () => sharedControlPlane().nats;

  it('round trip with user/password, never logging the password', async () => {
    const { url, user, password } = nats();
    const logger = recordingLogger();
    const registry = new Registry();
    const cluster = `c-${suffix()}`;
    const sub = await connectBus({ servers: url, user, password, name: 'bus-int-sub', logger, registry, waitForFirstConnect: true });
    const pub = await connectBus({ servers: url, user, password, name: 'bus-int-pub', logger, registry, waitForFirstConnect: true });
    open.push(sub, pub);
    expect(sub.state).toBe('connected');
    expect(sub.ready()).toEqual({ ok: true });

    const got: Array<{ payload: TunnelStatusPayload; peer: string; subject: string }> = [];
    sub.subscribe(TunnelStatusSubject, { cluster }, (payload, meta) => {
      got.push({ payload, peer: meta.params.peer, subject: meta.subject });
    });
    await sub.flush();

    const sent: TunnelStatusPayload = { cluster, peer: 'west', status: 'Connected', rttMs: 0.7, timestamp: new Date().toISOString() };
    expect(pub.publish(TunnelStatusSubject, { cluster, peer: 'west' }, sent)).toBe(true);
    // Another cluster's status does not match the subscription.
    pub.publish(TunnelStatusSubject, { cluster: `${cluster}x`, peer: 'west' }, { ...sent, cluster: `${cluster}x` });
    await pub.flush();

    await expect.poll(() => got.length, poll).toBe(1);
    expect(got[0]).toEqual({ payload: sent, peer: 'west', subject: `strait.${cluster}.tunnel.west.status` });
    expect(await metricValue(registry, 'strait_bus_messages_published_total', { subject_kind: 'tunnel_status' })).toBe(2);
    expect(await metricValue(registry, 'strait_bus_messages_received_total', { subject_kind: 'tunnel_status' })).toBe(1);
    expect(await metricValue(registry, 'strait_bus_connected')).toBe(1);

    const logs = logger.text();
    expect(logs).toContain(user);
    expect(logs).toContain(url);
    expect(logs).not.toContain(password);
  });

  it('round trip with a token', async () => {
    const { url, token } = nats();
    const logger = recordingLogger();
    const cluster = `c-${suffix()}`;
    const bus = await connectBus({ servers: url, token, name: 'bus-int-token', logger, waitForFirstConnect: true });
    open.push(bus);
    const got: GatewayLeaderPayload[] = [];
    bus.subscribe(GatewayLeaderSubject, '*', (p) => {
      if (p.cluster === cluster) got.push(p);
    });
    await bus.flush();
    const sent = leader(cluster, 1);
    expect(bus.publish(GatewayLeaderSubject, { cluster }, sent)).toBe(true);
    await expect.poll(() => got, poll).toEqual([sent]);
    expect(logger.text()).not.toContain(token);
  });

  it('refuses a connection without credentials, or with a wrong password, with a clear error', async () => {
    const { url, user, password } = nats();
    const err = await connectBus({ servers: url, name: 'bus-int-anon', logger: recordingLogger(), waitForFirstConnect: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusConnectError);
    expect((err as Error).message).toBe(`NATS (${url}) refused an anonymous connection: Authorization Violation`);

    const wrong = `${password}-wrong`;
    const err2 = await connectBus({ servers: url, user, password: wrong, name: 'bus-int-wrong', logger: recordingLogger(), waitForFirstConnect: true }).catch(
      (e: unknown) => e,
    );
    expect(err2).toBeInstanceOf(BusConnectError);
    expect((err2 as Error).message).toMatch(/refused user '.+': Authorization Violation/);
    expect((err2 as Error).message).not.toContain(wrong);

    // In the default background mode the service starts, stays unready and says why.
    const bg = await connectBus({ servers: url, name: 'bus-int-anon-bg', logger: recordingLogger(), reconnectTimeWaitMs: 50 });
    open.push(bg);
    await expect.poll(() => bg.ready().reason ?? '', poll).toMatch(/^NATS connecting for \d+s: Authorization Violation$/);
    expect(bg.state).toBe('connecting');
  });

  it('drops and counts malformed messages from a raw connection while valid ones keep flowing', async () => {
    const { url, user, password } = nats();
    const registry = new Registry();
    const logger = recordingLogger();
    const cluster = `c-${suffix()}`;
    const bus = await connectBus({ servers: url, user, password, name: 'bus-int-drop', logger, registry, waitForFirstConnect: true });
    open.push(bus);
    let calls = 0;
    const got: GatewayLeaderPayload[] = [];
    bus.subscribe(GatewayLeaderSubject, { cluster }, (p) => {
      calls++;
      if (p.holder === 'explode') throw new Error('handler failure');
      got.push(p);
    });
    await bus.flush();

    const plain = await connect({ servers: url, user, pass: password, name: 'bus-int-raw' });
    raw.push(plain);
    const subject = GatewayLeaderSubject.subject({ cluster });
    const enc = (v: unknown): string => JSON.stringify(v);
    plain.publish(subject, enc(leader(cluster, 1)));
    plain.publish(subject, '{"cluster": oops');
    plain.publish(subject, new Uint8Array([0xff, 0xfe, 0x00]));
    plain.publish(subject, enc({ ...leader(cluster, 2), leaseTransitions: 'many' }));
    plain.publish(subject, enc({ cluster }));
    plain.publish(subject, enc({ ...leader(cluster, 3), cluster: 'someone-else' }));
    plain.publish(subject, enc({ ...leader(cluster, 4), holder: 'explode' }));
    plain.publish(subject, enc(leader(cluster, 5)));
    await plain.flush();

    await expect.poll(() => got.map((p) => p.leaseTransitions), poll).toEqual([1, 5]);
    expect(calls).toBe(3);
    const dropped = (reason: string) => metricValue(registry, 'strait_bus_messages_dropped_total', { subject_kind: 'gateway_leader', reason });
    expect(await dropped('invalid_json')).toBe(2);
    expect(await dropped('schema_mismatch')).toBe(2);
    expect(await dropped('subject_mismatch')).toBe(1);
    expect(await dropped('handler_error')).toBe(1);
    expect(await metricValue(registry, 'strait_bus_messages_received_total', { subject_kind: 'gateway_leader' })).toBe(8);
    expect(bus.state).toBe('connected');
    expect(logger.entries.some((e) => e.level === 'error' && e.msg === 'bus message dropped: handler_error')).toBe(true);
  });
});

describe('bus across a nats-server restart (own control plane)', () => {
  let cp: ControlPlane;
  beforeAll(async () => {
    cp = await startControlPlane({ clusters: 0, nats: true });
  });
  afterAll(async () => {
    await cp?.stop();
  });

  it('goes disconnected/reconnecting → connected, readiness follows, and subscriptions survive', async () => {
    const nats = cp.nats;
    if (!nats) throw new Error('control plane started without NATS');
    const registry = new Registry();
    const logger = recordingLogger();
    const cluster = `c-${suffix()}`;
    const bus = await connectBus({
      servers: nats.url,
      user: nats.user,
      password: nats.password,
      name: 'bus-int-restart',
      logger,
      registry,
      waitForFirstConnect: true,
      reconnectTimeWaitMs: 100,
      reconnectJitterMs: 50,
    });
    open.push(bus);
    const states: BusState[] = [];
    bus.onStateChange((s) => states.push(s));
    const got: number[] = [];
    bus.subscribe(GatewayLeaderSubject, { cluster }, (p) => {
      got.push(p.leaseTransitions);
    });
    await bus.flush();
    bus.publish(GatewayLeaderSubject, { cluster }, leader(cluster, 1));
    await expect.poll(() => got, poll).toEqual([1]);

    await nats.stop();
    await expect.poll(() => bus.state, poll).not.toBe('connected');
    const down = bus.ready();
    expect(down.ok).toBe(false);
    expect(down.reason).toMatch(/^NATS (disconnected|reconnecting) for \d+s/);
    expect(await metricValue(registry, 'strait_bus_connected')).toBe(0);
    await expect.poll(() => bus.state, poll).toBe('reconnecting');

    await nats.start();
    await expect.poll(() => bus.state, { ...poll, timeout: 30_000 }).toBe('connected');
    expect(bus.ready()).toEqual({ ok: true });
    expect(states[0]).toBe('disconnected');
    expect(states).toContain('reconnecting');
    expect(states.at(-1)).toBe('connected');
    expect(states.indexOf('reconnecting')).toBeLessThan(states.lastIndexOf('connected'));
    expect(await metricValue(registry, 'strait_bus_connected')).toBe(1);
    expect(await metricValue(registry, 'strait_bus_reconnects_total')).toBe(1);

    // The subscription was restored by the reconnect.
    await bus.flush();
    bus.publish(GatewayLeaderSubject, { cluster }, leader(cluster, 2));
    await expect.poll(() => got, poll).toEqual([1, 2]);
    expect(logger.text()).not.toContain(nats.password);
  });

  it('starts while the server is down and becomes ready once it is up', async () => {
    const nats = cp.nats;
    if (!nats) throw new Error('control plane started without NATS');
    await nats.stop();
    const cluster = `c-${suffix()}`;
    const bus = await connectBus({
      servers: nats.url,
      user: nats.user,
      password: nats.password,
      name: 'bus-int-late',
      logger: recordingLogger(),
      reconnectTimeWaitMs: 100,
      reconnectJitterMs: 50,
    });
    open.push(bus);
    expect(bus.state).toBe('connecting');
    const got: number[] = [];
    bus.subscribe(GatewayLeaderSubject, { cluster }, (p) => {
      got.push(p.leaseTransitions);
    });
    expect(bus.publish(GatewayLeaderSubject, { cluster }, leader(cluster, 0))).toBe(false);
    await expect.poll(() => bus.ready().reason ?? '', poll).toMatch(/connection refused/);

    await nats.start();
    await expect.poll(() => bus.state, { ...poll, timeout: 30_000 }).toBe('connected');
    expect(bus.ready().ok).toBe(true);
    await bus.flush();
    expect(bus.publish(GatewayLeaderSubject, { cluster }, leader(cluster, 7))).toBe(true);
    await expect.poll(() => got, poll).toEqual([7]);
  });

  it('closes at once while the server is down (no drain against a missing server)', async () => {
    const nats = cp.nats;
    if (!nats) throw new Error('control plane started without NATS');
    const logger = recordingLogger();
    const bus = await connectBus({
      servers: nats.url,
      user: nats.user,
      password: nats.password,
      name: 'bus-int-close-down',
      logger,
      waitForFirstConnect: true,
      reconnectTimeWaitMs: 100,
      drainTimeoutMs: 1,
    });
    open.push(bus);
    await nats.stop();
    await expect.poll(() => bus.state, poll).toBe('reconnecting');
    await bus.close();
    expect(bus.state).toBe('closed');
    expect(bus.ready()).toMatchObject({ ok: false, reason: expect.stringMatching(/^NATS closed/) });
    expect(logger.entries.map((e) => e.msg)).not.toContain('bus drain did not complete; closing');
    await nats.start();
  });
});
