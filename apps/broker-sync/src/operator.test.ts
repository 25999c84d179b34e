import { ClusterResource, EndpointResource, NatMappingResource, TunnelEndpointResource, type Cluster, type Endpoint, type NatMapping, type TunnelEndpoint } from '@strait/api';
import type { Bus } from '@strait/bus';
import { EventRecorder, EventResource, FakeKubeApi, Informer, LeaseResource, type EventsV1Event, type KubeObject, type Lease } from '@strait/kube';
import { createRegistry } from '@strait/observability';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerSyncMetrics } from './metrics.ts';
import { BrokerSyncOperator } from './operator.ts';
import { BrokerSync } from './sync.ts';
import { brokerCluster, brokerEndpoint } from '@strait/broker/testing';

const logger = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A bus stand-in that records subscriptions and publications. */
function fakeBus() {
  const handlers: Array<(msg: { cluster: string }) => void> = [];
  const published: unknown[] = [];
  const bus = {
    subscribe: (_def: unknown, _params: unknown, h: (msg: { cluster: string }) => void) => {
      handlers.push(h);
      return { subject: 'strait.broker.endpoint.*', unsubscribe: () => undefined };
    },
    publish: (_def: unknown, _params: unknown, payload: unknown) => {
      published.push(payload);
      return true;
    },
  } as unknown as Bus;
  return { bus, handlers, published };
}

function replica(identity: string, local: FakeKubeApi, broker: FakeKubeApi, bus?: Bus) {
  const registry = createRegistry({ defaultMetrics: false });
  const metrics = new BrokerSyncMetrics(registry);
  const c = {
    clusters: local.client<Cluster>(ClusterResource),
    endpoints: local.client<Endpoint>(EndpointResource),
    teps: local.client<TunnelEndpoint>(TunnelEndpointResource),
    natMappings: local.client<NatMapping>(NatMappingResource),
  };
  const b = { clusters: broker.client<Cluster>(ClusterResource), endpoints: broker.client<Endpoint>(EndpointResource) };
  const hint: { op?: BrokerSyncOperator } = {};
  const sync = new BrokerSync({
    clusterId: 'cluster-a',
    namespace: 'strait-system',
    brokerNamespace: 'strait-broker',
    local: c,
    broker: b,
    events: new EventRecorder({ client: local.client<EventsV1Event>(EventResource), reportingController: 'net.strait.io/broker-sync', reportingInstance: identity }),
    localSpec: { clusterID: 'cluster-a', podCIDRs: ['10.1.0.0/16'], serviceCIDRs: ['10.96.0.0/16'] },
    pool: ['100.64.0.0/10'],
    staleAfterMs: 0,
    heartbeatIntervalMs: 60_000,
    onEndpointExported: (ep) => hint.op?.publishEndpoint(ep),
    metrics,
    logger,
  });
  const op = new BrokerSyncOperator({
    clusterId: 'cluster-a',
    namespace: 'strait-system',
    identity,
    sync,
    informers: [
      new Informer<Cluster>({ client: b.clusters, namespace: 'strait-broker' }),
      new Informer<Endpoint>({ client: b.endpoints, namespace: 'strait-broker' }),
      new Informer<Endpoint>({ client: c.endpoints, namespace: 'strait-system' }),
    ] as unknown as Array<Informer<KubeObject>>,
    leases: local.client<Lease>(LeaseResource),
    election: { leaseName: 'strait-broker-sync', leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 },
    bus,
    metrics,
    logger,
  });
  hint.op = op;
  const passes = async () => Number(/^strait_broker_sync_passes_total\{result="success"\} (\d+)$/m.exec(await registry.metrics())?.[1] ?? 0);
  return { op, passes, registry };
}

describe('BrokerSyncOperator', () => {
  it('syncs on the Lease holder only, follows Broker changes, and hands over on stop', async () => {
    const local = new FakeKubeApi();
    const broker = new FakeKubeApi();
    const one = replica('bs-1', local, broker);
    const two = replica('bs-2', local, broker);
    // Our gateway's Endpoint (the tunnel-operator's): without it no pair's backend can be chosen.
    const own = brokerEndpoint('cluster-a', '172.18.0.1');
    await local.client<Endpoint>(EndpointResource).create({ ...own, metadata: { name: 'cluster-a', namespace: 'strait-system' } });
    one.op.start();
    await until('bs-1 leading', () => one.op.elector.isLeader());
    two.op.start();
    cleanups.push(() => two.op.stop());
    await until('a first pass', async () => (await one.passes()) > 0);
    expect(local.snapshot<Cluster>(ClusterResource).map((c) => c.metadata?.name)).toEqual(['cluster-a']);

    // A peer appears on the Broker: the watch triggers a pass on the leader.
    await broker.client<Cluster>(ClusterResource).create(brokerCluster('cluster-b', '10.2.0.0/16'));
    await broker.client<Endpoint>(EndpointResource).create(brokerEndpoint('cluster-b', '172.18.0.2'));
    await until('the TunnelEndpoint of cluster-b', () => local.snapshot(TunnelEndpointResource).length === 1);
    expect(await two.passes()).toBe(0);

    await one.op.stop();
    await until('bs-2 leading', () => two.op.elector.isLeader());
    await broker.client<Cluster>(ClusterResource).create(brokerCluster('cluster-c', '10.3.0.0/16'));
    await broker.client<Endpoint>(EndpointResource).create(brokerEndpoint('cluster-c', '172.18.0.3'));
    await until('the TunnelEndpoint of cluster-c, written by bs-2', () => local.snapshot(TunnelEndpointResource).length === 2);
    expect(await two.passes()).toBeGreaterThan(0);
  });

  it('publishes an Endpoint change as a hint and answers a hint from another cluster with a pass (a re-read)', async () => {
    const local = new FakeKubeApi();
    const broker = new FakeKubeApi();
    const nats = fakeBus();
    const r = replica('bs-1', local, broker, nats.bus);
    r.op.start();
    cleanups.push(() => r.op.stop());
    await until('a first pass', async () => (await r.passes()) > 0);
    const e = brokerEndpoint('cluster-a', '172.18.0.1');
    await local.client<Endpoint>(EndpointResource).create({ ...e, metadata: { name: 'cluster-a', namespace: 'strait-system' } });
    await until('the hint', () => nats.published.length === 1);
    expect(nats.published[0]).toMatchObject({ cluster: 'cluster-a', endpoint: { privateIP: '172.18.0.1', publicIP: '172.18.0.1', backend: 'wireguard', port: 51820 } });

    const before = await r.passes();
    nats.handlers[0]!({ cluster: 'cluster-a' }); // our own: ignored
    nats.handlers[0]!({ cluster: 'cluster-b' });
    await until('a pass after the hint', async () => (await r.passes()) > before);
    expect(await r.registry.metrics()).toMatch(/^strait_broker_sync_endpoint_hints_received_total 1$/m);
  });
});
