import {
  ClusterResource,
  EndpointResource,
  HEARTBEAT_ANNOTATION,
  NatMappingResource,
  ORIGIN_CLUSTER_LABEL,
  REMAPS_ANNOTATION,
  TunnelEndpointResource,
  type Backend,
  type Cluster,
  type Endpoint,
  type NatMapping,
  type TunnelEndpoint,
} from '@strait/api';
import { EventRecorder, EventResource, FakeKubeApi, type EventsV1Event } from '@strait/kube';
import { createRegistry } from '@strait/observability';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BrokerSyncMetrics } from './metrics.ts';
import { BrokerSync } from './sync.ts';
import { pairVni } from '@strait/broker';
import { brokerCluster, brokerEndpoint } from '@strait/broker/testing';

const logger = pino({ level: 'silent' });
const NS = 'strait-system';
const BROKER_NS = 'strait-broker';

interface Member {
  id: string;
  api: FakeKubeApi;
  sync: BrokerSync;
  metrics: BrokerSyncMetrics;
  registry: ReturnType<typeof createRegistry>;
  teps(): TunnelEndpoint[];
  nms(): NatMapping[];
  events(): EventsV1Event[];
}

function member(id: string, broker: FakeKubeApi, podCIDR: string, o: { now?: () => number; staleAfterMs?: number; externalCIDR?: string; noLocalSpec?: boolean; api?: FakeKubeApi } = {}): Member {
  const api = o.api ?? new FakeKubeApi();
  const registry = createRegistry({ defaultMetrics: false });
  const metrics = new BrokerSyncMetrics(registry);
  const events = new EventRecorder({ client: api.client<EventsV1Event>(EventResource), reportingController: 'net.strait.io/broker-sync', reportingInstance: 'test', logger });
  const sync = new BrokerSync({
    clusterId: id,
    namespace: NS,
    brokerNamespace: BROKER_NS,
    local: {
      clusters: api.client<Cluster>(ClusterResource),
      endpoints: api.client<Endpoint>(EndpointResource),
      teps: api.client<TunnelEndpoint>(TunnelEndpointResource),
      natMappings: api.client<NatMapping>(NatMappingResource),
    },
    broker: { clusters: broker.client<Cluster>(ClusterResource), endpoints: broker.client<Endpoint>(EndpointResource) },
    events,
    localSpec: o.noLocalSpec ? undefined : { clusterID: id, podCIDRs: [podCIDR], serviceCIDRs: ['10.96.0.0/16'], ...(o.externalCIDR ? { externalCIDR: o.externalCIDR } : {}) },
    pool: ['100.64.0.0/10'],
    staleAfterMs: o.staleAfterMs ?? 0,
    heartbeatIntervalMs: 10_000,
    metrics,
    logger,
    ...(o.now ? { now: o.now } : {}),
  });
  return {
    id,
    api,
    sync,
    metrics,
    registry,
    teps: () => api.snapshot<TunnelEndpoint>(TunnelEndpointResource),
    nms: () => api.snapshot<NatMapping>(NatMappingResource),
    events: () => api.snapshot<EventsV1Event>(EventResource),
  };
}

async function localEndpoint(m: Member, ip: string): Promise<void> {
  const e = brokerEndpoint(m.id, ip, { healthCheckIP: undefined });
  await m.api.client<Endpoint>(EndpointResource).create({ ...e, metadata: { name: m.id, namespace: NS } });
}

async function settle(...members: Member[]): Promise<void> {
  for (let i = 0; i < 3; i++) for (const m of members) await m.sync.syncOnce();
}

describe('BrokerSync', () => {
  it('exports the local Cluster and Endpoint labelled with their origin, and imports the other clusters', async () => {
    const broker = new FakeKubeApi();
    const a = member('cluster-a', broker, '10.1.0.0/16', { externalCIDR: '10.250.0.0/24' });
    const b = member('cluster-b', broker, '10.2.0.0/16');
    await localEndpoint(a, '172.18.0.1');
    await localEndpoint(b, '172.18.0.2');
    await settle(a, b);

    const exported = broker.snapshot<Cluster>(ClusterResource);
    expect(exported.map((c) => [c.metadata?.name, c.metadata?.namespace, c.metadata?.labels?.[ORIGIN_CLUSTER_LABEL]])).toEqual([
      ['cluster-a', BROKER_NS, 'cluster-a'],
      ['cluster-b', BROKER_NS, 'cluster-b'],
    ]);
    expect(exported[0]?.metadata?.annotations).toMatchObject({ [REMAPS_ANNOTATION]: '{}', [HEARTBEAT_ANNOTATION]: expect.any(String) });
    expect(broker.snapshot<Endpoint>(EndpointResource).map((e) => e.metadata?.labels?.[ORIGIN_CLUSTER_LABEL])).toEqual(['cluster-a', 'cluster-b']);

    expect(a.teps().map((t) => [t.metadata?.name, t.spec.endpoint.address, t.spec.remote.podCIDRs, t.spec.remap])).toEqual([['cluster-b', '172.18.0.2', ['10.2.0.0/16'], undefined]]);
    expect(b.teps().map((t) => t.metadata?.name)).toEqual(['cluster-a']);
    // Only cluster-a has an external CIDR: it offers it to cluster-b.
    expect(a.nms().map((n) => n.spec)).toEqual([{ clusterID: 'cluster-b', podCIDR: '10.2.0.0/16', externalCIDR: '10.250.0.0/24', entries: [] }]);
    expect(b.nms()).toEqual([]);
    expect(await a.registry.metrics()).toMatch(/^strait_broker_sync_remote_clusters 1$/m);
    expect(a.api.snapshot<Cluster>(ClusterResource)[0]?.status?.conditions).toEqual([
      expect.objectContaining({ type: 'BrokerSynced', status: 'True', reason: 'Synced', message: '1 remote cluster(s) imported, 0 remapped, 0 skipped' }),
    ]);
  });

  it('removes the NatMappings when this cluster stops offering an external CIDR, keeping the TunnelEndpoints', async () => {
    const broker = new FakeKubeApi();
    const local = new FakeKubeApi();
    const withExt = member('cluster-a', broker, '10.1.0.0/16', { api: local, externalCIDR: '10.250.0.0/24' });
    await localEndpoint(withExt, '172.18.0.1');
    const admin = { clusters: broker.client<Cluster>(ClusterResource), endpoints: broker.client<Endpoint>(EndpointResource) };
    await admin.clusters.create(brokerCluster('cluster-b', '10.2.0.0/16'));
    await admin.endpoints.create(brokerEndpoint('cluster-b', '172.18.0.2'));
    await withExt.sync.syncOnce();
    expect(withExt.nms().map((n) => n.metadata?.name)).toEqual(['cluster-b']);
    // The user's entries survive broker-sync's updates.
    const nmClient = local.client<NatMapping>(NatMappingResource);
    const cur = (await nmClient.get({ namespace: NS, name: 'cluster-b' }))!;
    await nmClient.replace({ ...cur, spec: { ...cur.spec, entries: [{ externalIP: '10.250.0.5', realIP: '192.168.1.5' }] } });
    const tepB = (await local.client<TunnelEndpoint>(TunnelEndpointResource).get({ namespace: NS, name: 'cluster-b' }))!;
    await broker.client<Endpoint>(EndpointResource).replace({ ...(await admin.endpoints.get({ namespace: BROKER_NS, name: 'cluster-b' }))!, spec: { ...brokerEndpoint('cluster-b', '172.18.0.22').spec } });
    await withExt.sync.syncOnce();
    expect(withExt.nms()[0]?.spec.entries).toEqual([{ externalIP: '10.250.0.5', realIP: '192.168.1.5' }]);
    expect(withExt.teps()[0]?.spec.endpoint.address).toBe('172.18.0.22');
    expect(withExt.teps()[0]?.metadata?.uid).toBe(tepB.metadata?.uid);

    // The local Cluster loses its external CIDR: broker-sync now runs without --external-cidr.
    await local.client<Cluster>(ClusterResource).replace({ ...(await local.client<Cluster>(ClusterResource).get({ namespace: NS, name: 'cluster-a' }))!, spec: { clusterID: 'cluster-a', podCIDRs: ['10.1.0.0/16'], serviceCIDRs: ['10.96.0.0/16'] } });
    const without = member('cluster-a', broker, '10.1.0.0/16', { api: local });
    await without.sync.syncOnce();
    expect(without.nms()).toEqual([]);
    expect(without.teps().map((t) => t.metadata?.name)).toEqual(['cluster-b']);
  });

  it('imports a peer (TunnelEndpoint and NatMapping) only once its gateway has published an Endpoint', async () => {
    const broker = new FakeKubeApi();
    const a = member('cluster-a', broker, '10.1.0.0/16', { externalCIDR: '10.250.0.0/24' });
    await localEndpoint(a, '172.18.0.1');
    await broker.client<Cluster>(ClusterResource).create(brokerCluster('cluster-b', '10.2.0.0/16'));
    expect((await a.sync.syncOnce()).imported).toEqual([]);
    expect([a.teps(), a.nms()]).toEqual([[], []]);
    await broker.client<Endpoint>(EndpointResource).create(brokerEndpoint('cluster-b', '172.18.0.2'));
    expect((await a.sync.syncOnce()).imported).toEqual(['cluster-b']);
    expect([a.teps().length, a.nms().length]).toEqual([1, 1]);
  });

  it('works with the Broker as a namespace of a member cluster (nothing loops back)', async () => {
    const shared = new FakeKubeApi();
    const a = member('cluster-a', shared, '10.1.0.0/16', { api: shared });
    const b = member('cluster-b', shared, '10.2.0.0/16');
    await localEndpoint(a, '172.18.0.1');
    await localEndpoint(b, '172.18.0.2');
    await settle(a, b);
    const clusters = shared.snapshot<Cluster>(ClusterResource).map((c) => `${c.metadata?.namespace}/${c.metadata?.name}`).sort();
    expect(clusters).toEqual(['strait-broker/cluster-a', 'strait-broker/cluster-b', 'strait-system/cluster-a']);
    expect(a.teps().map((t) => t.spec.remoteClusterID)).toEqual(['cluster-b']);
    expect(b.teps().map((t) => t.spec.remoteClusterID)).toEqual(['cluster-a']);
  });

  /** Two clusters with distinct pod CIDRs, both Endpoints published, synced to a steady state. */
  async function settledPair() {
    const broker = new FakeKubeApi();
    const a = member('cluster-a', broker, '10.1.0.0/16');
    const b = member('cluster-b', broker, '10.2.0.0/16');
    await localEndpoint(a, '172.18.0.1');
    await localEndpoint(b, '172.18.0.2');
    await settle(a, b);
    return { broker, a, b };
  }

  it('a steady state writes nothing (no resourceVersion moves on another pass)', async () => {
    const { broker, a, b } = await settledPair();
    const before = [broker.currentRv, a.api.currentRv, b.api.currentRv];
    await settle(a, b);
    expect([broker.currentRv, a.api.currentRv, b.api.currentRv]).toEqual(before);
  });

  it('a steady state writes nothing when the API server returns the objects with their keys sorted (as kube-apiserver does)', async () => {
    const { a, b } = await settledPair();
    const sortKeys = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(sortKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])])) : v;
    const teps = a.api.client<TunnelEndpoint>(TunnelEndpointResource);
    for (const t of a.teps()) await teps.replace(sortKeys(t) as TunnelEndpoint);
    const before = a.api.currentRv;
    await settle(a, b);
    expect(a.api.currentRv).toBe(before);
  });

  it('gives two clusters with the same pod CIDR consistent remaps on every side', async () => {
    const broker = new FakeKubeApi();
    const a = member('cluster-a', broker, '10.1.0.0/16');
    const b = member('cluster-b', broker, '10.2.0.0/16');
    const c = member('cluster-c', broker, '10.2.0.0/16');
    for (const [m, ip] of [[a, '172.18.0.1'], [b, '172.18.0.2'], [c, '172.18.0.3']] as const) await localEndpoint(m, ip);
    await settle(a, b, c);
    const tep = (m: Member, peer: string) => m.teps().find((t) => t.spec.remoteClusterID === peer)!;
    // a sees b and c with the same CIDR: b (first by ID) keeps it, c is remapped.
    expect(tep(a, 'cluster-b').spec.remap).toBeUndefined();
    const ac = tep(a, 'cluster-c').spec.remap?.remotePodCIDR;
    expect(ac).toMatch(/^100\.6[4-9]\.0\.0\/16$/);
    // b and c see each other's pods on their own pod CIDR: both remap.
    const bc = tep(b, 'cluster-c').spec.remap?.remotePodCIDR;
    const cb = tep(c, 'cluster-b').spec.remap?.remotePodCIDR;
    expect([bc, cb], 'b→c and c→b remaps').toEqual([expect.stringMatching(/^100\.6[4-9]\.0\.0\/16$/), expect.stringMatching(/^100\.6[4-9]\.0\.0\/16$/)]);
    // Each side avoids the range under which it is itself presented to the other.
    expect(bc).not.toBe(cb);
    // c is never presented to a inside a range c itself uses for another peer (c→b): c's health-check image
    // for a would shadow b's addresses on c's gateway.
    expect(ac, 'a→c outside c→b').not.toBe(cb);
    // Consistency: how X addresses Y is how Y presents itself to X.
    for (const x of [a, b, c]) {
      for (const y of [a, b, c]) {
        if (x === y) continue;
        expect(tep(y, x.id).spec.remap?.localPodCIDR, `${y.id} presents itself to ${x.id}`).toBe(tep(x, y.id).spec.remap?.remotePodCIDR);
      }
    }
    // And the choice survives a restart (a new engine on the same objects changes nothing).
    const rvs = [a.api.currentRv, b.api.currentRv, c.api.currentRv, broker.currentRv];
    const b2 = member('cluster-b', broker, '10.2.0.0/16', { api: b.api });
    await settle(a, b2, c);
    expect([a.api.currentRv, b.api.currentRv, c.api.currentRv, broker.currentRv]).toEqual(rvs);
  });

  it('keeps its remap choices when its local objects are lost (the announcement on the Broker is the second copy)', async () => {
    const broker = new FakeKubeApi();
    const admin = { clusters: broker.client<Cluster>(ClusterResource), endpoints: broker.client<Endpoint>(EndpointResource) };
    const a = member('cluster-a', broker, '10.1.0.0/16');
    await localEndpoint(a, '172.18.0.1');
    // cluster-z arrives first and gets the first block; cluster-b (smaller ID) arrives later.
    for (const id of ['cluster-z', 'cluster-b']) {
      await admin.clusters.create(brokerCluster(id, '10.1.0.0/16'));
      await admin.endpoints.create(brokerEndpoint(id, '172.18.0.9'));
      await a.sync.syncOnce();
    }
    const first = Object.fromEntries(a.teps().map((t) => [t.metadata?.name, t.spec.remap?.remotePodCIDR]));
    expect(first).toEqual({ 'cluster-b': '100.65.0.0/16', 'cluster-z': '100.64.0.0/16' });
    // Every local object lost (a new, empty local API): decided afresh by ID order this would swap them.
    const fresh = member('cluster-a', broker, '10.1.0.0/16');
    await localEndpoint(fresh, '172.18.0.1');
    await fresh.sync.syncOnce();
    expect(Object.fromEntries(fresh.teps().map((t) => [t.metadata?.name, t.spec.remap?.remotePodCIDR]))).toEqual(first);
  });

  it('removes the TunnelEndpoint and NatMapping of a cluster that left the Broker, and of one whose heartbeat is stale', async () => {
    const broker = new FakeKubeApi();
    let now = Date.parse('2026-12-07T12:00:00Z');
    const a = member('cluster-a', broker, '10.1.0.0/16', { now: () => now, staleAfterMs: 60_000, externalCIDR: '10.250.0.0/24' });
    await localEndpoint(a, '172.18.0.1');
    const admin = { clusters: broker.client<Cluster>(ClusterResource), endpoints: broker.client<Endpoint>(EndpointResource) };
    const hb = new Date(now).toISOString();
    for (const [id, cidr] of [['cluster-b', '10.2.0.0/16'], ['cluster-c', '10.3.0.0/16']] as const) {
      await admin.clusters.create(brokerCluster(id, cidr, { heartbeat: hb }));
      await admin.endpoints.create(brokerEndpoint(id, '172.18.0.9'));
    }
    await a.sync.syncOnce();
    expect(a.teps().map((t) => t.metadata?.name)).toEqual(['cluster-b', 'cluster-c']);
    expect(a.nms().map((t) => t.metadata?.name)).toEqual(['cluster-b', 'cluster-c']);

    await admin.clusters.delete({ namespace: BROKER_NS, name: 'cluster-b' });
    await admin.endpoints.delete({ namespace: BROKER_NS, name: 'cluster-b' });
    const r = await a.sync.syncOnce();
    expect(r.removed).toEqual(['cluster-b']);
    expect(a.teps().map((t) => t.metadata?.name)).toEqual(['cluster-c']);
    expect(a.nms().map((t) => t.metadata?.name)).toEqual(['cluster-c']);

    now += 71_000;
    expect((await a.sync.syncOnce()).removed).toEqual(['cluster-c']);
    expect(a.teps()).toEqual([]);
    expect(a.nms()).toEqual([]);
    const text = await a.registry.metrics();
    expect(text).toMatch(/^strait_broker_sync_removed_clusters_total\{reason="left"\} 1$/m);
    expect(text).toMatch(/^strait_broker_sync_removed_clusters_total\{reason="stale"\} 1$/m);
    expect(a.events().map((e) => e.reason)).toContain('RemoteClusterRemoved');
  });

  it('keeps every local object while the Broker is unreachable and converges when it returns', async () => {
    const broker = new FakeKubeApi();
    const a = member('cluster-a', broker, '10.1.0.0/16');
    await localEndpoint(a, '172.18.0.1');
    const admin = { clusters: broker.client<Cluster>(ClusterResource, { admin: true }), endpoints: broker.client<Endpoint>(EndpointResource, { admin: true }) };
    await admin.clusters.create(brokerCluster('cluster-b', '10.2.0.0/16'));
    await admin.endpoints.create(brokerEndpoint('cluster-b', '172.18.0.2'));
    await a.sync.syncOnce();
    const before = a.teps();
    broker.setDown(true);
    await admin.clusters.create(brokerCluster('cluster-c', '10.3.0.0/16'));
    await admin.endpoints.create(brokerEndpoint('cluster-c', '172.18.0.3'));
    await admin.endpoints.delete({ namespace: BROKER_NS, name: 'cluster-b' });
    await admin.clusters.delete({ namespace: BROKER_NS, name: 'cluster-b' });
    await expect(a.sync.syncOnce()).rejects.toThrow();
    expect(a.teps()).toEqual(before);
    expect(await a.registry.metrics()).toMatch(/^strait_broker_sync_broker_up 0$/m);
    expect(a.api.snapshot<Cluster>(ClusterResource)[0]?.status?.conditions).toEqual([expect.objectContaining({ type: 'BrokerSynced', status: 'False', reason: 'BrokerUnreachable' })]);
    broker.setDown(false);
    await a.sync.syncOnce();
    expect(a.teps().map((t) => t.metadata?.name)).toEqual(['cluster-c']);
    expect(await a.registry.metrics()).toMatch(/^strait_broker_sync_broker_up 1$/m);
    expect(a.api.snapshot<Cluster>(ClusterResource)[0]?.status?.conditions).toEqual([expect.objectContaining({ type: 'BrokerSynced', status: 'True' })]);
  });

  it('skips malformed remote clusters with a Warning Event on the local Cluster, keeps their existing TunnelEndpoint and serves the others', async () => {
    const broker = new FakeKubeApi();
    const a = member('cluster-a', broker, '10.1.0.0/16');
    await localEndpoint(a, '172.18.0.1');
    const admin = { clusters: broker.client<Cluster>(ClusterResource), endpoints: broker.client<Endpoint>(EndpointResource) };
    await admin.clusters.create(brokerCluster('cluster-b', '10.2.0.0/16'));
    await admin.endpoints.create(brokerEndpoint('cluster-b', '172.18.0.2'));
    await a.sync.syncOnce();
    const tepB = a.teps()[0];

    const eb = brokerEndpoint('cluster-b', '172.18.0.2');
    await admin.endpoints.replace({ ...(await admin.endpoints.get({ namespace: BROKER_NS, name: 'cluster-b' }))!, spec: { ...eb.spec, backend: 'carrier-pigeon' as never } });
    const c = brokerCluster('cluster-c', '10.3.0.0/16');
    await admin.clusters.create({ ...c, spec: { ...c.spec, podCIDRs: ['10.3.0.0/33'] } });
    await admin.endpoints.create(brokerEndpoint('cluster-c', '172.18.0.3'));
    const ed = brokerEndpoint('cluster-d', '172.18.0.4');
    await admin.clusters.create(brokerCluster('cluster-d', '10.4.0.0/16'));
    await admin.endpoints.create({ ...ed, spec: { ...ed.spec, backendConfig: {} } });
    await admin.clusters.create(brokerCluster('cluster-e', '10.5.0.0/16'));
    await admin.endpoints.create(brokerEndpoint('cluster-e', '172.18.0.5'));

    const r = await a.sync.syncOnce();
    expect(Object.keys(r.skipped)).toEqual(['cluster-b', 'cluster-c', 'cluster-d']);
    expect(r.imported).toEqual(['cluster-e']);
    expect(a.teps().map((t) => t.metadata?.name)).toEqual(['cluster-b', 'cluster-e']);
    expect(a.teps()[0]?.spec).toEqual(tepB?.spec);
    const warnings = a.events().filter((e) => e.type === 'Warning');
    expect(warnings.map((e) => [e.reason, e.regarding.kind, e.regarding.name])).toEqual([
      ['RemoteClusterSkipped', 'Cluster', 'cluster-a'],
      ['RemoteClusterSkipped', 'Cluster', 'cluster-a'],
      ['RemoteClusterSkipped', 'Cluster', 'cluster-a'],
    ]);
    expect(warnings.map((e) => e.note).sort()).toEqual([
      expect.stringMatching(/^remote cluster cluster-b skipped: Endpoint: spec\.backend/),
      expect.stringMatching(/^remote cluster cluster-c skipped: Cluster: spec\.podCIDRs\[0\]/),
      expect.stringMatching(/^remote cluster cluster-d skipped: Endpoint: .*wireguard/),
    ]);
    expect(await a.registry.metrics()).toMatch(/^strait_broker_sync_skipped_remote_objects_total\{peer="cluster-c"\} 1$/m);
  });

  it('gives both clusters of a pair the same backend and VNI, and skips a peer with no backend in common with a Warning Event', async () => {
    const broker = new FakeKubeApi();
    const a = member('cluster-a', broker, '10.1.0.0/16');
    const b = member('cluster-b', broker, '10.2.0.0/16');
    const c = member('cluster-c', broker, '10.3.0.0/16');
    const offer = async (m: Member, ip: string, backends: Backend[]) => {
      const e = brokerEndpoint(m.id, ip, { backends });
      await m.api.client<Endpoint>(EndpointResource).create({ ...e, metadata: { name: m.id, namespace: NS } });
    };
    await offer(a, '172.18.0.1', ['wireguard', 'vxlan']);
    await offer(b, '172.18.0.2', ['vxlan', 'ipsec']);
    await offer(c, '172.18.0.3', ['ipsec']);
    await settle(a, b, c);
    const tep = (m: Member, peer: string) => m.teps().find((t) => t.metadata?.name === peer)?.spec;
    expect(tep(a, 'cluster-b')).toMatchObject({ backend: 'vxlan', endpoint: { address: '172.18.0.2', port: 4789 }, backendConfig: { vxlan: { vni: pairVni('cluster-a', 'cluster-b'), port: 4789 } } });
    expect(tep(b, 'cluster-a')).toMatchObject({ backend: 'vxlan', endpoint: { address: '172.18.0.1', port: 4789 }, backendConfig: { vxlan: { vni: pairVni('cluster-a', 'cluster-b'), port: 4789 } } });
    expect(tep(b, 'cluster-c')).toMatchObject({ backend: 'ipsec', endpoint: { port: 500 }, backendConfig: { ipsec: { ikeID: 'cluster-c' } } });
    expect(tep(c, 'cluster-b')).toMatchObject({ backend: 'ipsec', backendConfig: { ipsec: { ikeID: 'cluster-b' } } });
    // cluster-a and cluster-c have nothing in common: no TunnelEndpoint on either side, a Warning naming both offers.
    expect([tep(a, 'cluster-c'), tep(c, 'cluster-a')]).toEqual([undefined, undefined]);
    expect((await a.sync.syncOnce()).skipped).toEqual({ 'cluster-c': 'no cable driver in common: cluster-a offers wireguard, vxlan (prefers wireguard); cluster-c offers ipsec (prefers ipsec)' });
    expect(a.events().filter((e) => e.type === 'Warning').map((e) => e.note)).toContainEqual(expect.stringMatching(/^remote cluster cluster-c skipped: no cable driver in common/));
  });

  it('writes no TunnelEndpoint until our own gateway has published its Endpoint (its offer is needed to choose)', async () => {
    const broker = new FakeKubeApi();
    const a = member('cluster-a', broker, '10.1.0.0/16');
    await broker.client<Cluster>(ClusterResource).create(brokerCluster('cluster-b', '10.2.0.0/16'));
    await broker.client<Endpoint>(EndpointResource).create(brokerEndpoint('cluster-b', '172.18.0.2'));
    expect((await a.sync.syncOnce()).imported).toEqual([]);
    expect(a.teps()).toEqual([]);
    await localEndpoint(a, '172.18.0.1');
    expect((await a.sync.syncOnce()).imported).toEqual(['cluster-b']);
  });

  it('does not judge heartbeats that could not be renewed while the Broker was down (stale only after --stale-after of sight)', async () => {
    const broker = new FakeKubeApi();
    let now = Date.parse('2026-12-07T12:00:00Z');
    const a = member('cluster-a', broker, '10.1.0.0/16', { now: () => now, staleAfterMs: 60_000 });
    await localEndpoint(a, '172.18.0.1');
    const admin = { clusters: broker.client<Cluster>(ClusterResource, { admin: true }), endpoints: broker.client<Endpoint>(EndpointResource, { admin: true }) };
    await admin.clusters.create(brokerCluster('cluster-b', '10.2.0.0/16', { heartbeat: new Date(now).toISOString() }));
    await admin.endpoints.create(brokerEndpoint('cluster-b', '172.18.0.2'));
    await a.sync.syncOnce();
    broker.setDown(true);
    now += 10 * 60_000;
    await expect(a.sync.syncOnce()).rejects.toThrow();
    broker.setDown(false);
    // Back after 10 minutes: cluster-b's heartbeat is old, but it had no Broker to write to either.
    expect((await a.sync.syncOnce()).removed).toEqual([]);
    now += 65_000;
    expect((await a.sync.syncOnce()).removed).toEqual([]);
    now += 6_000;
    expect((await a.sync.syncOnce()).removed).toEqual(['cluster-b']);
  });

  it('removes nothing while the Broker lists without our own Cluster (a Broker restored empty), and exports it again', async () => {
    const broker = new FakeKubeApi();
    const a = member('cluster-a', broker, '10.1.0.0/16');
    const admin = { clusters: broker.client<Cluster>(ClusterResource), endpoints: broker.client<Endpoint>(EndpointResource) };
    await admin.clusters.create(brokerCluster('cluster-b', '10.2.0.0/16'));
    await admin.endpoints.create(brokerEndpoint('cluster-b', '172.18.0.2'));
    await localEndpoint(a, '172.18.0.1');
    await a.sync.syncOnce();
    for (const c of [admin.clusters, admin.endpoints] as const) {
      for (const x of (await c.list({ namespace: BROKER_NS })).items) await c.delete({ namespace: BROKER_NS, name: x.metadata?.name ?? '' });
    }
    expect((await a.sync.syncOnce()).removed).toEqual([]);
    expect(a.teps().map((t) => t.metadata?.name)).toEqual(['cluster-b']);
    expect(broker.snapshot<Cluster>(ClusterResource).map((c) => c.metadata?.name)).toEqual(['cluster-a']);
    expect(broker.snapshot<Endpoint>(EndpointResource).map((c) => c.metadata?.name)).toEqual(['cluster-a']);
    // Now the Broker is trusted again: cluster-b really is gone.
    expect((await a.sync.syncOnce()).removed).toEqual(['cluster-b']);
  });

  it('reports a missing local Cluster clearly and writes nothing to the Broker', async () => {
    const broker = new FakeKubeApi();
    const a = member('cluster-a', broker, '10.1.0.0/16', { noLocalSpec: true });
    await expect(a.sync.syncOnce()).rejects.toThrow('the local Cluster strait-system/cluster-a does not exist (give --pod-cidrs and --service-cidrs to have it written)');
    expect(broker.snapshot(ClusterResource)).toEqual([]);
    expect(await a.registry.metrics()).toMatch(/^strait_broker_sync_errors_total\{stage="local"\} 1$/m);
  });
});
