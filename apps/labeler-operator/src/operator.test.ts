import { GATEWAY_APP_LABEL, GATEWAY_APP_LABEL_VALUE, GATEWAY_LEASE_NAME, GATEWAY_POD_SELECTOR, GATEWAY_ROLE_LABEL } from '@strait/api';
import { EventResource, FakeKubeApi, LeaseResource, PodResource, type EventsV1Event, type Lease } from '@strait/kube';
import { createRegistry } from '@strait/observability';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayPod } from './gateway-roles.ts';
import { startLabelerOperator, type LabelerOperator } from './operator.ts';

const NS = 'strait-system';
const ROLE = GATEWAY_ROLE_LABEL;
const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

let api: FakeKubeApi;
const running: LabelerOperator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((o) => o.stop()));
  api?.stop();
});

function operator(identity: string, registry = createRegistry({ defaultMetrics: false })): LabelerOperator {
  const op = startLabelerOperator({
    clients: {
      pods: api.client<GatewayPod>(PodResource),
      gatewayLeases: api.client<Lease>(LeaseResource),
      electionLeases: api.client<Lease>(LeaseResource),
      events: api.client<EventsV1Event>(EventResource),
    },
    clusterId: 'c1',
    namespace: NS,
    gatewayLeaseName: GATEWAY_LEASE_NAME,
    podSelector: GATEWAY_POD_SELECTOR,
    identity,
    election: { leaseName: 'strait-labeler', leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 },
    logger,
    registry,
  });
  running.push(op);
  return op;
}

describe('startLabelerOperator', () => {
  it('only the labeler holding strait-labeler writes; stopping it releases the Lease and another takes over', async () => {
    api = new FakeKubeApi({ latencyMs: 1 });
    const pods = api.client<GatewayPod>(PodResource, { admin: true });
    const leases = api.client<Lease>(LeaseResource, { admin: true });
    for (const name of ['gw-a', 'gw-b']) await pods.create({ metadata: { name, namespace: NS, labels: { [GATEWAY_APP_LABEL]: GATEWAY_APP_LABEL_VALUE } } });
    const renew = () => new Date().toISOString();
    await leases.create({ metadata: { name: GATEWAY_LEASE_NAME, namespace: NS }, spec: { holderIdentity: 'gw-a', leaseDurationSeconds: 30, renewTime: renew() } });

    const registry = createRegistry({ defaultMetrics: false });
    const a = operator('labeler-a', registry);
    const b = operator('labeler-b');
    await waitFor('a leader', () => a.elector.isLeader() || b.elector.isLeader());
    const [leader, other] = a.elector.isLeader() ? [a, b] : [b, a];
    await waitFor('leader reconciling', () => leader.labeler.reconciling);
    expect(other.labeler.reconciling).toBe(false);
    const roles = () => Object.fromEntries(api.snapshot<GatewayPod>(PodResource).map((p) => [p.metadata.name, p.metadata.labels?.[ROLE]]));
    await waitFor('gw-a active', () => roles()['gw-a'] === 'active');
    expect(roles()).toEqual({ 'gw-a': 'active', 'gw-b': 'standby' });
    expect(other.labeler.stats.reconciles).toBe(0);

    if (leader === a) {
      const metrics = await registry.metrics();
      expect(metrics).toMatch(/^leader_election_master_status\{name="strait-labeler"\} 1$/m);
      expect(metrics).toMatch(/^controller_runtime_reconcile_total\{controller="labeler",result="requeue_after"\} [1-9]/m);
      expect(metrics).toMatch(/^workqueue_adds_total\{name="labeler"\} [1-9]/m);
    }

    const t0 = performance.now();
    await leader.stop();
    const own = await leases.get({ namespace: NS, name: 'strait-labeler' });
    expect(own?.spec?.holderIdentity === '' || own?.spec?.holderIdentity === other.elector.identity).toBe(true);
    await waitFor('other reconciling', () => other.labeler.reconciling);
    const takeoverMs = performance.now() - t0;
    expect(takeoverMs).toBeLessThan(1000); // released, not expired (lease duration is 1 s)
    expect(leader.labeler.reconciling).toBe(false);

    const cur = await leases.get({ namespace: NS, name: GATEWAY_LEASE_NAME });
    if (!cur) throw new Error('gateway Lease missing');
    await leases.replace({ ...cur, spec: { ...cur.spec, holderIdentity: 'gw-b', renewTime: renew() } });
    await waitFor('gw-b active', () => roles()['gw-b'] === 'active');
    expect(roles()).toEqual({ 'gw-a': 'standby', 'gw-b': 'active' });
    const leaderWrites = leader.labeler.stats.promotions + leader.labeler.stats.demotions;
    await sleep(20);
    expect(leader.labeler.stats.promotions + leader.labeler.stats.demotions).toBe(leaderWrites);
  });
});
