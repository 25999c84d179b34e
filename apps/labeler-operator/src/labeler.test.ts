import { GATEWAY_APP_LABEL, GATEWAY_APP_LABEL_VALUE, GATEWAY_LEASE_NAME, GATEWAY_POD_SELECTOR, GATEWAY_ROLE_LABEL } from '@strait/api';
import { EventRecorder, EventResource, FakeKubeApi, KubeApiError, LeaseResource, PodResource, type EventsV1Event, type Lease, type ResourceClient } from '@strait/kube';
import { createRegistry } from '@strait/observability';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayPod } from './gateway-roles.ts';
import { GatewayLabeler, rvNewer } from './labeler.ts';
import { LabelerMetrics } from './labeler-metrics.ts';

const NS = 'strait-system';
const LEASE = GATEWAY_LEASE_NAME;
const ROLE = GATEWAY_ROLE_LABEL;
const FENCE = 'net.strait.io/gateway-fence';
const SELECTOR = GATEWAY_POD_SELECTOR;
const logger = pino({ level: 'silent' });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}
const microTime = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

interface Harness {
  api: FakeKubeApi;
  labeler: GatewayLabeler;
  pods: ResourceClient<GatewayPod>;
  leases: ResourceClient<Lease>;
  registry: ReturnType<typeof createRegistry>;
  roles(): Record<string, string | undefined>;
  /** Largest number of pods carrying `active` at once, over every committed state. */
  maxActive(): number;
  setHolder(holder: string, o?: { renewAgoMs?: number; seconds?: number }): Promise<void>;
  addPod(name: string, role?: string): Promise<void>;
  events(): Array<{ pod: string | undefined; reason: string }>;
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of open.splice(0).reverse()) await f();
});

/**
 * A labeler over the in-memory API. `podWatchDelayMs` delays every pod watch event (a lagging cache);
 * `silenceLeaseWatch` drops every Lease watch event after the initial list.
 */
async function harness(o: { podWatchDelayMs?: number; silenceLeaseWatch?: boolean; reconcile?: boolean; latencyMs?: number } = {}): Promise<Harness> {
  const api = new FakeKubeApi({ latencyMs: o.latencyMs ?? 1 });
  const pods = api.client<GatewayPod>(PodResource, { admin: true });
  const leases = api.client<Lease>(LeaseResource, { admin: true });
  const labelerPods = api.client<GatewayPod>(PodResource);
  const labelerLeases = api.client<Lease>(LeaseResource);
  const podClient: ResourceClient<GatewayPod> = o.podWatchDelayMs
    ? {
        ...labelerPods,
        descriptor: labelerPods.descriptor,
        list: (opts) => labelerPods.list(opts),
        patch: (r, p, opts) => labelerPods.patch(r, p, opts),
        watch: (opts, onEvent) => labelerPods.watch(opts, (ev) => void setTimeout(() => onEvent(ev), o.podWatchDelayMs)),
      }
    : labelerPods;
  const leaseClient: ResourceClient<Lease> = o.silenceLeaseWatch
    ? { ...labelerLeases, descriptor: labelerLeases.descriptor, get: (r, opts) => labelerLeases.get(r, opts), list: (opts) => labelerLeases.list(opts), watch: (opts) => labelerLeases.watch(opts, () => undefined) }
    : labelerLeases;
  const registry = createRegistry({ defaultMetrics: false });
  const labeler = new GatewayLabeler({
    pods: podClient,
    leases: leaseClient,
    namespace: NS,
    leaseName: LEASE,
    podSelector: SELECTOR,
    logger,
    recorder: new EventRecorder({ client: api.client<EventsV1Event>(EventResource), reportingController: 'net.strait.io/labeler-operator', reportingInstance: 'test' }),
    metrics: new LabelerMetrics(registry),
  });

  // The invariant, checked on every committed pod state.
  const state = new Map<string, string | undefined>();
  let maxActive = 0;
  const ac = new AbortController();
  const watching = pods.watch({ namespace: NS, signal: ac.signal }, (ev) => {
    if (ev.type === 'DELETED') state.delete(ev.object.metadata.name);
    else state.set(ev.object.metadata.name, ev.object.metadata.labels?.[ROLE]);
    maxActive = Math.max(maxActive, [...state.values()].filter((r) => r === 'active').length);
  });

  labeler.start();
  if (o.reconcile !== false) await labeler.startReconciling({ mayWrite: () => true });
  open.push(async () => {
    await labeler.stop();
    ac.abort();
    await watching;
    api.stop();
  });

  return {
    api,
    labeler,
    pods,
    leases,
    registry,
    roles: () => Object.fromEntries(api.snapshot<GatewayPod>(PodResource).map((p) => [p.metadata.name, p.metadata.labels?.[ROLE]])),
    maxActive: () => maxActive,
    async setHolder(holder, { renewAgoMs = 0, seconds = 10 } = {}) {
      const spec = { holderIdentity: holder, leaseDurationSeconds: seconds, renewTime: microTime(Date.now() - renewAgoMs), acquireTime: microTime(Date.now()) };
      const cur = await leases.get({ namespace: NS, name: LEASE });
      if (cur) await leases.replace({ ...cur, spec: { ...cur.spec, ...spec } });
      else await leases.create({ metadata: { name: LEASE, namespace: NS }, spec });
    },
    async addPod(name, role) {
      await pods.create({ metadata: { name, namespace: NS, labels: { [GATEWAY_APP_LABEL]: GATEWAY_APP_LABEL_VALUE, ...(role ? { [ROLE]: role } : {}) } } });
    },
    events: () => api.snapshot<EventsV1Event>(EventResource).map((e) => ({ pod: e.regarding.name, reason: e.reason })),
  };
}

describe('rvNewer', () => {
  it('compares numeric resourceVersions as numbers; anything else counts as newer', () => {
    expect(rvNewer('10', '9')).toBe(true);
    expect(rvNewer('9', '10')).toBe(false);
    expect(rvNewer('10', '10')).toBe(false);
    expect(rvNewer('123456789012345678901', '123456789012345678900')).toBe(true);
    expect(rvNewer('abc', '10')).toBe(true);
    expect(rvNewer('5', undefined)).toBe(true);
    expect(rvNewer(undefined, '5')).toBe(false);
  });
});

describe('GatewayLabeler', () => {
  it('labels the holder active and every other gateway pod standby, with Events and metrics', async () => {
    const h = await harness({ reconcile: false });
    await h.addPod('gw-a');
    await h.addPod('gw-b');
    await h.addPod('gw-c', 'active'); // left over from an earlier leader
    await h.pods.create({ metadata: { name: 'not-a-gateway', namespace: NS, labels: { app: 'web' } } });
    await h.setHolder('gw-b');
    await h.labeler.startReconciling({ mayWrite: () => true });
    await waitFor('gw-b active', () => h.roles()['gw-b'] === 'active');
    expect(h.roles()).toEqual({ 'gw-a': 'standby', 'gw-b': 'active', 'gw-c': 'standby', 'not-a-gateway': undefined });
    expect(h.maxActive()).toBe(1);
    await waitFor('events', () => h.events().length === 2);
    expect(h.events().sort((a, b) => String(a.pod).localeCompare(String(b.pod)))).toEqual([
      { pod: 'gw-b', reason: 'Promoted' },
      { pod: 'gw-c', reason: 'Demoted' },
    ]);
    const transitions = await h.registry.getSingleMetricAsString('strait_labeler_transitions_total');
    expect(transitions).toContain('strait_labeler_transitions_total{to="active"} 1');
    expect(transitions).toContain('strait_labeler_transitions_total{to="standby"} 2'); // gw-a labelled, gw-c demoted
    expect(await h.registry.getSingleMetricAsString('strait_labeler_label_latency_seconds')).toContain('strait_labeler_label_latency_seconds_count 1');
    expect(h.labeler.stats).toMatchObject({ promotions: 1, demotions: 1 });
  });

  it('follows many quick handovers without ever two active pods', async () => {
    const h = await harness();
    const names = ['gw-a', 'gw-b', 'gw-c'];
    for (const n of names) await h.addPod(n);
    let last = '';
    for (let i = 0; i < 200; i++) {
      last = names[(i * 7 + (i >> 2)) % 3] as string;
      await h.setHolder(last);
      if (i % 5 === 0) await sleep(3);
    }
    await waitFor(`${last} active`, () => h.roles()[last] === 'active');
    await sleep(20);
    expect(h.maxActive()).toBe(1);
    expect(Object.values(h.roles()).filter((r) => r === 'active')).toHaveLength(1);
    expect(h.labeler.stats.latencies.length).toBeGreaterThan(0);
  });

  it('never acts on a lagging pod cache: two active pods never exist even when the cache is 30 ms behind', async () => {
    const h = await harness({ podWatchDelayMs: 30 });
    const names = ['gw-a', 'gw-b', 'gw-c'];
    for (const n of names) await h.addPod(n);
    for (let i = 0; i < 60; i++) {
      await h.setHolder(names[i % 3] as string);
      await sleep(i % 2 ? 1 : 12);
    }
    await waitFor('gw-c active', () => h.roles()['gw-c'] === 'active');
    await sleep(80);
    expect(h.maxActive()).toBe(1);
    expect(h.roles()).toEqual({ 'gw-a': 'standby', 'gw-b': 'standby', 'gw-c': 'active' });
  });

  it('an expired Lease demotes the holder without any API event; a renewal promotes it again', async () => {
    const h = await harness();
    await h.addPod('gw-a');
    await h.addPod('gw-b');
    await h.setHolder('gw-a', { seconds: 1, renewAgoMs: 850 }); // expires in ~150 ms
    await waitFor('gw-a active', () => h.roles()['gw-a'] === 'active');
    await waitFor('gw-a standby after expiry', () => h.roles()['gw-a'] === 'standby', 2000);
    expect(h.roles()).toEqual({ 'gw-a': 'standby', 'gw-b': 'standby' });
    await waitFor('Demoted event', () => h.events().some((e) => e.pod === 'gw-a' && e.reason === 'Demoted'));
    await h.setHolder('gw-a', { seconds: 10 });
    await waitFor('gw-a active again', () => h.roles()['gw-a'] === 'active');
  });

  it('a released Lease (holder cleared) leaves every pod standby', async () => {
    const h = await harness();
    await h.addPod('gw-a');
    await h.addPod('gw-b');
    await h.setHolder('gw-a');
    await waitFor('gw-a active', () => h.roles()['gw-a'] === 'active');
    await h.setHolder('');
    await waitFor('all standby', () => h.roles()['gw-a'] === 'standby');
    expect(h.roles()).toEqual({ 'gw-a': 'standby', 'gw-b': 'standby' });
  });

  it('a deleted Lease leaves every pod standby', async () => {
    const h = await harness();
    await h.addPod('gw-a');
    await h.setHolder('gw-a');
    await waitFor('gw-a active', () => h.roles()['gw-a'] === 'active');
    await h.leases.delete({ namespace: NS, name: LEASE });
    await waitFor('gw-a standby', () => h.roles()['gw-a'] === 'standby');
  });

  it('a holder whose pod does not exist yet: all standby, then its pod becomes active when it appears', async () => {
    const h = await harness();
    await h.addPod('gw-a', 'active');
    await h.setHolder('gw-b');
    await waitFor('gw-a standby', () => h.roles()['gw-a'] === 'standby');
    await h.addPod('gw-b');
    await waitFor('gw-b active', () => h.roles()['gw-b'] === 'active');
    expect(h.maxActive()).toBe(1);
  });

  it('the holder pod deleted and recreated under the same name is labelled again', async () => {
    const h = await harness();
    await h.addPod('gw-a');
    await h.addPod('gw-b');
    await h.setHolder('gw-a');
    await waitFor('gw-a active', () => h.roles()['gw-a'] === 'active');
    await h.pods.delete({ namespace: NS, name: 'gw-a' });
    await h.addPod('gw-a');
    await waitFor('new gw-a active', () => h.roles()['gw-a'] === 'active');
    expect(h.roles()).toEqual({ 'gw-a': 'active', 'gw-b': 'standby' });
  });

  it('a pod labelled active by someone else is demoted', async () => {
    const h = await harness();
    await h.addPod('gw-a');
    await h.addPod('gw-b');
    await h.setHolder('gw-a');
    await waitFor('gw-a active', () => h.roles()['gw-a'] === 'active');
    await h.pods.patch({ namespace: NS, name: 'gw-b' }, { metadata: { labels: { [ROLE]: 'active' } } });
    await waitFor('gw-b standby again', () => h.roles()['gw-b'] === 'standby');
    expect(h.roles()['gw-a']).toBe('active');
  });

  it('a hint re-reads the Lease: reacts even when the Lease watch delivers nothing', async () => {
    const h = await harness({ silenceLeaseWatch: true });
    await h.addPod('gw-a');
    await h.addPod('gw-b');
    await h.setHolder('gw-a');
    h.labeler.hint('test'); // the watch is silent: the initial holder is learnt from a re-read too
    await waitFor('gw-a active', () => h.roles()['gw-a'] === 'active');
    await h.setHolder('gw-b');
    await sleep(150);
    expect(h.roles()).toEqual({ 'gw-a': 'active', 'gw-b': 'standby' }); // the watch told the labeler nothing
    h.labeler.hint('test');
    await waitFor('gw-b active after the hint', () => h.roles()['gw-b'] === 'active', 1000);
    expect(h.roles()['gw-a']).toBe('standby');
    expect(h.labeler.stats.leaseRereads).toBe(2);
  });

  it('renewals by the same holder cost no request once converged', async () => {
    const h = await harness();
    await h.addPod('gw-a');
    await h.addPod('gw-b');
    await h.setHolder('gw-a');
    await waitFor('gw-a active', () => h.roles()['gw-a'] === 'active');
    await sleep(20);
    const before = { list: h.api.calls['list'] ?? 0, patch: h.api.calls['patch'] ?? 0, get: h.api.calls['get'] ?? 0 };
    const reconciles = h.labeler.stats.reconciles;
    for (let i = 0; i < 20; i++) await h.setHolder('gw-a');
    await sleep(50);
    expect({ list: h.api.calls['list'] ?? 0, patch: h.api.calls['patch'] ?? 0 }).toEqual({ list: before.list, patch: before.patch });
    expect(h.labeler.stats.reconciles).toBe(reconciles);
  });

  it('writes nothing while not reconciling or not allowed to, and nothing after stopReconciling', async () => {
    const h = await harness({ reconcile: false });
    await h.addPod('gw-a');
    await h.setHolder('gw-a');
    await h.labeler.waitForSync();
    await sleep(30);
    expect(h.roles()).toEqual({ 'gw-a': undefined });

    let allowed = false;
    await h.labeler.startReconciling({ mayWrite: () => allowed });
    await sleep(30);
    expect(h.roles()).toEqual({ 'gw-a': undefined });
    allowed = true;
    await h.labeler.stopReconciling();
    await h.labeler.startReconciling({ mayWrite: () => allowed });
    await waitFor('gw-a active', () => h.roles()['gw-a'] === 'active');

    await h.labeler.stopReconciling();
    expect(h.labeler.reconciling).toBe(false);
    await h.setHolder('');
    await sleep(50);
    expect(h.roles()).toEqual({ 'gw-a': 'active' });
  });

  it('starting to reconcile re-fences every pod that is not to be active (a previous leader\'s late write cannot land)', async () => {
    const h = await harness({ reconcile: false });
    await h.addPod('gw-a');
    await h.addPod('gw-b');
    await h.setHolder('gw-a');
    await h.labeler.startReconciling({ mayWrite: () => true });
    await waitFor('gw-a active', () => h.roles()['gw-a'] === 'active');
    const fences = () => Object.fromEntries(h.api.snapshot<GatewayPod>(PodResource).map((p) => [p.metadata.name, p.metadata.annotations?.[FENCE]]));
    const before = fences();
    await h.labeler.stopReconciling();
    await h.labeler.startReconciling({ mayWrite: () => true });
    await waitFor('gw-b re-fenced', () => fences()['gw-b'] !== before['gw-b']);
    expect(fences()['gw-a']).toBe(before['gw-a']); // the active pod keeps its label and token
    expect(h.roles()).toEqual({ 'gw-a': 'active', 'gw-b': 'standby' });
  });

  it('a promotion of unknown outcome is fenced off: when it lands late it is refused, never two active pods', async () => {
    const api = new FakeKubeApi({ latencyMs: 1 });
    const admin = api.client<GatewayPod>(PodResource, { admin: true });
    const leases = api.client<Lease>(LeaseResource, { admin: true });
    const inner = api.client<GatewayPod>(PodResource);
    let lost: { name: string; body: unknown } | undefined;
    let armed = false;
    // Once armed, the next promotion of gw-a "times out": not applied now, and while it is in the air the
    // Lease moves back to gw-b.
    const flaky: ResourceClient<GatewayPod> = Object.assign(Object.create(inner) as ResourceClient<GatewayPod>, {
      async patch(ref: { name: string; namespace?: string }, body: unknown, opts?: { type?: 'json' | 'merge' | 'strategic' }) {
        const promotes = JSON.stringify(body).includes('"active"');
        if (armed && promotes && ref.name === 'gw-a' && !lost) {
          lost = { name: ref.name, body };
          const cur = await leases.get({ namespace: NS, name: LEASE });
          await leases.replace({ ...(cur as Lease), spec: { ...cur?.spec, holderIdentity: 'gw-b', renewTime: microTime(Date.now()) } });
          throw new KubeApiError({ status: 0, verb: 'patch', kind: 'Pod', name: ref.name, serverMessage: 'request timed out' });
        }
        return inner.patch(ref, body, opts);
      },
    });
    const labeler = new GatewayLabeler({ pods: flaky, leases: api.client<Lease>(LeaseResource), namespace: NS, leaseName: LEASE, podSelector: SELECTOR, logger });
    open.push(async () => {
      await labeler.stop();
      api.stop();
    });
    for (const name of ['gw-a', 'gw-b']) await admin.create({ metadata: { name, namespace: NS, labels: { [GATEWAY_APP_LABEL]: GATEWAY_APP_LABEL_VALUE } } });
    // both were labelled standby (with tokens) by an earlier leader
    for (const name of ['gw-a', 'gw-b']) await admin.patch({ namespace: NS, name }, { metadata: { labels: { [ROLE]: 'standby' }, annotations: { [FENCE]: `old-${name}` } } });
    await leases.create({ metadata: { name: LEASE, namespace: NS }, spec: { holderIdentity: 'gw-b', leaseDurationSeconds: 10, renewTime: microTime(Date.now()) } });
    labeler.start();
    await labeler.startReconciling({ mayWrite: () => true });
    const roles = () => Object.fromEntries(api.snapshot<GatewayPod>(PodResource).map((p) => [p.metadata.name, p.metadata.labels?.[ROLE]]));
    await waitFor('gw-b active', () => roles()['gw-b'] === 'active');
    await sleep(20);
    armed = true;
    const fenceOfA = () => api.snapshot<GatewayPod>(PodResource).find((p) => p.metadata.name === 'gw-a')?.metadata.annotations?.[FENCE];
    const before = fenceOfA();
    const cur = await leases.get({ namespace: NS, name: LEASE });
    await leases.replace({ ...(cur as Lease), spec: { ...cur?.spec, holderIdentity: 'gw-a', renewTime: microTime(Date.now()) } });
    await waitFor('the lost promotion', () => lost !== undefined);
    await waitFor('gw-a fenced again', () => fenceOfA() !== before);
    // gw-b was demoted for gw-a's promotion; it is the holder again
    await waitFor('gw-b active again', () => roles()['gw-b'] === 'active');
    expect(roles()).toEqual({ 'gw-a': 'standby', 'gw-b': 'active' });
    // The lost request finally reaches the server: its token test fails, gw-a stays standby.
    await expect(admin.patch({ namespace: NS, name: 'gw-a' }, lost?.body, { type: 'json' })).rejects.toMatchObject({ status: 422 });
    expect(roles()).toEqual({ 'gw-a': 'standby', 'gw-b': 'active' });
  });

  it('retries after a failed write and converges', async () => {
    const h = await harness();
    await h.addPod('gw-a', 'active');
    await h.addPod('gw-b');
    h.api.failNext('patch');
    h.api.failNext('patch');
    await h.setHolder('gw-b');
    await waitFor('gw-b active', () => h.roles()['gw-b'] === 'active');
    expect(h.roles()['gw-a']).toBe('standby');
    expect(h.maxActive()).toBe(1);
  });
});
