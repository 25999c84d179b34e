import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  ClusterResource,
  EXAMPLE_WIREGUARD_PUBLIC_KEY,
  EndpointResource,
  HEALTH_CHECK_IP_ANNOTATION,
  NatMappingResource,
  ORIGIN_CLUSTER_LABEL,
  REMAPS_ANNOTATION,
  TunnelEndpointResource,
  type Cluster,
  type Endpoint,
  type NatMapping,
  type TunnelEndpoint,
} from '@strait/api';
import { BrokerEndpointSubject, connectBus, silentLogger, type Bus } from '@strait/bus';
import { CrClient, EventResource, NamespaceResource, httpStatusOf, type EventsV1Event, type KubeObject } from '@strait/kube';
import { startServiceProcess, type ServiceProcess } from '@strait/runtime/testing';
import { startControlPlane, type ClusterHandle, type ControlPlane } from '@strait/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installStraitCrds, applyBrokerAccess } from './testing/control-plane.ts';
import { brokerCluster, brokerEndpoint } from '@strait/broker/testing';

/**
 * A Broker and three member clusters, each with its own kube-apiserver, NATS, and broker-sync running
 * as a real process per member with that member's own identity on the Broker (client certificate
 * `strait:member:<id>`, group `strait:members`) bound by the shipped access model (libs/broker/src/access-policy.ts).
 * cluster-b and cluster-c use the same pod CIDR. The Broker's Cluster/Endpoint CRDs have an open spec
 * (another release's CRDs) so that malformed objects can be put there.
 */

const main = new URL('./main.ts', import.meta.url);
const NS = 'strait-system';
const BROKER_NS = 'strait-broker';
const MEMBERS = [
  { id: 'cluster-a', pods: '10.1.0.0/16', ip: '172.30.0.1', external: '10.250.0.0/24' },
  { id: 'cluster-b', pods: '10.2.0.0/16', ip: '172.30.0.2' },
  { id: 'cluster-c', pods: '10.2.0.0/16', ip: '172.30.0.3' },
] as const;
type MemberId = (typeof MEMBERS)[number]['id'];

interface Member {
  id: MemberId;
  handle: ClusterHandle;
  kc: KubeConfig;
  brokerKubeconfig: string;
  brokerKc: KubeConfig;
  args: string[];
  proc: ServiceProcess | undefined;
  teps: CrClient<TunnelEndpoint>;
  nms: CrClient<NatMapping>;
  endpoints: CrClient<Endpoint>;
  events: CrClient<EventsV1Event>;
}

let cp: ControlPlane;
let broker: ClusterHandle;
let adminBroker: { clusters: CrClient<Cluster>; endpoints: CrClient<Endpoint> };
let nats: Bus | undefined;
let dir: string;
const members = new Map<MemberId, Member>();
const m = (id: MemberId) => members.get(id)!;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function tepsOf(id: MemberId): Promise<Map<string, TunnelEndpoint>> {
  const items = (await m(id).teps.list({ namespace: NS })).items;
  return new Map(items.map((t) => [t.spec.remoteClusterID, t]));
}

async function writeLocalEndpoint(id: MemberId, ip: string): Promise<void> {
  const e = brokerEndpoint(id, ip, { healthCheckIP: MEMBERS.find((x) => x.id === id)!.pods.replace('0.0/16', '0.10') });
  await m(id).endpoints.apply({ ...e, metadata: { name: id, namespace: NS } } as never, { force: true });
}

function startSync(id: MemberId): ServiceProcess {
  const mm = m(id);
  mm.proc = startServiceProcess(main, mm.args);
  return mm.proc;
}

beforeAll(async () => {
  const t0 = performance.now();
  cp = await startControlPlane({ clusters: [{ name: 'broker' }, ...MEMBERS.map((x) => ({ name: x.id }))], nats: true });
  broker = cp.cluster('broker');
  dir = mkdtempSync(join(tmpdir(), 'strait-broker-sync-'));
  const passwordFile = join(dir, 'nats-password');
  writeFileSync(passwordFile, `${cp.nats!.password}\n`, { mode: 0o600 });
  await installStraitCrds(broker.kubeConfig(), { lenient: true });
  await applyBrokerAccess(broker.kubeConfig(), BROKER_NS);
  adminBroker = { clusters: new CrClient<Cluster>(broker.kubeConfig(), ClusterResource), endpoints: new CrClient<Endpoint>(broker.kubeConfig(), EndpointResource) };
  for (const x of MEMBERS) {
    const handle = cp.cluster(x.id);
    const kc = handle.kubeConfig();
    await installStraitCrds(kc);
    await new CrClient<KubeObject>(kc, NamespaceResource).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } as KubeObject);
    const user = await broker.addUser(`strait:member:${x.id}`, ['strait:members']);
    members.set(x.id, {
      id: x.id,
      handle,
      kc,
      brokerKubeconfig: user.kubeconfigPath,
      brokerKc: user.kubeConfig(),
      proc: undefined,
      args: [
        `--kubeconfig=${handle.kubeconfigPath}`,
        `--broker-kubeconfig=${user.kubeconfigPath}`,
        `--cluster-id=${x.id}`,
        `--pod-cidrs=${x.pods}`,
        '--service-cidrs=10.96.0.0/16',
        ...('external' in x ? [`--external-cidr=${x.external}`] : []),
        '--probe-addr=127.0.0.1:0',
        '--heartbeat-interval=1s',
        '--stale-after=5s',
        `--nats-url=${cp.nats!.url}`,
        `--nats-user=${cp.nats!.user}`,
        `--nats-password-file=${passwordFile}`,
      ],
      teps: new CrClient<TunnelEndpoint>(kc, TunnelEndpointResource),
      nms: new CrClient<NatMapping>(kc, NatMappingResource),
      endpoints: new CrClient<Endpoint>(kc, EndpointResource, { fieldManager: 'strait-tunnel-operator' }),
      events: new CrClient<EventsV1Event>(kc, EventResource),
    });
    // The tunnel-operator leader's Endpoint, written by hand here.
    await writeLocalEndpoint(x.id, x.ip);
  }
  nats = await connectBus({ servers: [cp.nats!.url], user: cp.nats!.user, password: cp.nats!.password, name: 'broker-sync-test', logger: silentLogger, waitForFirstConnect: true });
  console.log(`[broker-sync] Broker + 3 clusters + NATS ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
});

afterAll(async () => {
  await Promise.allSettled([...members.values()].map((x) => x.proc?.kill()));
  await nats?.close().catch(() => undefined);
  await cp?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('broker-sync with a Broker and three clusters', () => {
  it('exports every cluster, imports the others, and gives the two clusters with the same pod CIDR consistent remaps', async () => {
    const t0 = performance.now();
    for (const x of MEMBERS) startSync(x.id);
    await Promise.all(MEMBERS.map((x) => m(x.id).proc!.waitForReady(60_000)));
    const ready = performance.now();
    const consistent = async () => {
      const all = new Map<MemberId, Map<string, TunnelEndpoint>>();
      for (const x of MEMBERS) all.set(x.id, await tepsOf(x.id));
      for (const x of MEMBERS) {
        for (const y of MEMBERS) {
          if (x.id === y.id) continue;
          const xy = all.get(x.id)!.get(y.id);
          const yx = all.get(y.id)!.get(x.id);
          if (!xy || !yx) return false;
          if (xy.spec.remap?.remotePodCIDR !== yx.spec.remap?.localPodCIDR) return false;
        }
      }
      return all;
    };
    const all = await waitFor('every cluster to import the two others with consistent remaps', consistent);
    console.log(`[broker-sync] 3 processes ready in ${Math.round(ready - t0)} ms; all 6 TunnelEndpoints consistent ${Math.round(performance.now() - ready)} ms later`);

    // Export: one Cluster and one Endpoint per member on the Broker, labelled with its origin.
    const clusters = (await adminBroker.clusters.list({ namespace: BROKER_NS })).items;
    const endpoints = (await adminBroker.endpoints.list({ namespace: BROKER_NS })).items;
    expect(clusters.map((c) => [c.metadata?.name, c.metadata?.labels?.[ORIGIN_CLUSTER_LABEL], c.spec.podCIDRs])).toEqual([
      ['cluster-a', 'cluster-a', ['10.1.0.0/16']],
      ['cluster-b', 'cluster-b', ['10.2.0.0/16']],
      ['cluster-c', 'cluster-c', ['10.2.0.0/16']],
    ]);
    expect(endpoints.map((e) => [e.metadata?.name, e.metadata?.labels?.[ORIGIN_CLUSTER_LABEL], e.spec.privateIP])).toEqual(MEMBERS.map((x) => [x.id, x.id, x.ip]));

    // Import: the TunnelEndpoint is what the tunnel-operator needs.
    const ab = all.get('cluster-a')!.get('cluster-b')!;
    expect(ab.metadata?.labels).toMatchObject({ 'net.strait.io/remote-cluster': 'cluster-b', 'app.kubernetes.io/managed-by': 'strait' });
    expect(ab.spec).toMatchObject({
      remoteClusterID: 'cluster-b',
      endpoint: { address: '172.30.0.2', port: 51820 },
      backend: 'wireguard',
      backendConfig: { wireguard: { publicKey: EXAMPLE_WIREGUARD_PUBLIC_KEY, port: 51820 } },
      remote: { podCIDRs: ['10.2.0.0/16'] },
    });
    // cluster-a sees b and c with the same CIDR: the one it imported first keeps it, the other is remapped
    // (and presents itself so to a).
    const ac = all.get('cluster-a')!.get('cluster-c')!;
    const [kept, moved] = ab.spec.remap ? [ac, ab] : [ab, ac];
    expect(kept.spec.remap).toBeUndefined();
    const rp = moved.spec.remap?.remotePodCIDR;
    expect(rp).toMatch(/^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.0\.0\/16$/);
    expect(all.get(moved.spec.remoteClusterID as MemberId)!.get('cluster-a')!.spec.remap?.localPodCIDR).toBe(rp);
    expect(kept.metadata?.annotations?.[HEALTH_CHECK_IP_ANNOTATION]).toBe('10.2.0.10');
    expect(moved.metadata?.annotations?.[HEALTH_CHECK_IP_ANNOTATION]).toBe(rp!.replace('0.0/16', '0.10'));
    // b and c address each other under remapped CIDRs that differ from how they present themselves.
    const bc = all.get('cluster-b')!.get('cluster-c')!.spec.remap!;
    const cb = all.get('cluster-c')!.get('cluster-b')!.spec.remap!;
    expect(bc.remotePodCIDR).toBeDefined();
    expect(cb.remotePodCIDR).toBeDefined();
    expect(bc.remotePodCIDR).not.toBe(bc.localPodCIDR);
    console.log(`[broker-sync] remaps: a→${moved.spec.remoteClusterID} ${rp}; b→c ${bc.remotePodCIDR} (b shown to c as ${bc.localPodCIDR}); c→b ${cb.remotePodCIDR}`);
    // The remap choices are announced on the Broker (the persisted, shared half of the agreement).
    const announced = clusters.find((c) => c.metadata?.name === 'cluster-a')?.metadata?.annotations?.[REMAPS_ANNOTATION];
    expect(JSON.parse(announced ?? '{}')).toEqual({ [moved.spec.remoteClusterID]: { podCIDR: rp } });
    // cluster-a offers its external CIDR to both peers, from their pods as cluster-a sees them.
    const nms = (await m('cluster-a').nms.list({ namespace: NS })).items.map((n) => [n.metadata?.name, n.spec.podCIDR, n.spec.externalCIDR]);
    expect(nms).toEqual([
      ['cluster-b', ab.spec.remap?.remotePodCIDR ?? '10.2.0.0/16', '10.250.0.0/24'],
      ['cluster-c', ac.spec.remap?.remotePodCIDR ?? '10.2.0.0/16', '10.250.0.0/24'],
    ]);
    const metrics = (await m('cluster-a').proc!.get('/metrics')).body;
    expect(metrics).toMatch(/^strait_broker_sync_remote_clusters 2$/m);
    expect(metrics).toMatch(/^strait_broker_sync_remapped_clusters 1$/m);
    expect(metrics).toMatch(/^strait_broker_sync_broker_up 1$/m);
    expect(metrics).toMatch(/^strait_broker_sync_exports_total\{kind="Endpoint"\} 1$/m);
  });

  it("refuses cluster-a's identity writing cluster-b's objects on the Broker (the API server: RBAC and the admission policy)", async () => {
    const asA = { clusters: new CrClient<Cluster>(m('cluster-a').brokerKc, ClusterResource), endpoints: new CrClient<Endpoint>(m('cluster-a').brokerKc, EndpointResource) };
    const refusal = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return { status: httpStatusOf(e), message: (e as Error).message };
      }
      throw new Error('the write was accepted');
    };
    // b's Endpoint, labelled b: refused by the policy.
    const foreign = brokerEndpoint('cluster-b', '192.0.2.66');
    const r1 = await refusal(asA.endpoints.replace({ ...(await asA.endpoints.get({ namespace: BROKER_NS, name: 'cluster-b' }))!, spec: foreign.spec }));
    expect(r1).toMatchObject({ status: 403, message: expect.stringContaining('member cluster-a may only write objects labelled net.strait.io/origin-cluster=cluster-a (got cluster-b)') });
    // A new Endpoint claiming b's cluster under a's label: refused (spec.clusterID).
    const r2 = await refusal(asA.endpoints.create({ ...foreign, metadata: { name: 'sneaky', namespace: BROKER_NS, labels: { [ORIGIN_CLUSTER_LABEL]: 'cluster-a' } } }));
    expect(r2).toMatchObject({ status: 403, message: expect.stringContaining('may only write objects whose spec.clusterID is cluster-a') });
    // Relabelling its own Endpoint as b's: refused.
    const own = (await asA.endpoints.get({ namespace: BROKER_NS, name: 'cluster-a' }))!;
    const r3 = await refusal(asA.endpoints.replace({ ...own, metadata: { ...own.metadata, labels: { [ORIGIN_CLUSTER_LABEL]: 'cluster-b' } } }));
    expect(r3).toMatchObject({ status: 403, message: expect.stringContaining('cannot be changed (from cluster-a to cluster-b)') });
    // Deleting b's objects and writing outside the Broker namespace: refused by RBAC.
    expect(await refusal(asA.clusters.delete({ namespace: BROKER_NS, name: 'cluster-b' }))).toMatchObject({ status: 403 });
    expect(await refusal(asA.endpoints.create({ ...brokerEndpoint('cluster-a', '192.0.2.1'), metadata: { name: 'cluster-a', namespace: 'default', labels: { [ORIGIN_CLUSTER_LABEL]: 'cluster-a' } } }))).toMatchObject({ status: 403 });
    // Nothing of b changed; a's own object is writable (broker-sync does it all the time).
    expect((await adminBroker.endpoints.get({ namespace: BROKER_NS, name: 'cluster-b' }))?.spec.privateIP).toBe('172.30.0.2');
    expect((await adminBroker.endpoints.get({ namespace: BROKER_NS, name: 'sneaky' }))).toBeUndefined();
    // An identity in the members' group whose name names no cluster: RBAC lets it in, the policy refuses it.
    const rogue = await broker.addUser(`rogue-${Math.random().toString(36).slice(2, 8)}`, ['strait:members']);
    const asRogue = new CrClient<Endpoint>(rogue.kubeConfig(), EndpointResource);
    const r4 = await refusal(asRogue.create({ ...brokerEndpoint('cluster-d', '192.0.2.4'), metadata: { name: 'cluster-d', namespace: BROKER_NS, labels: { [ORIGIN_CLUSTER_LABEL]: 'cluster-d' } } }));
    expect(r4).toMatchObject({ status: 403, message: expect.stringContaining('is in the group strait:members but is not named strait:member:<cluster ID>') });
  });

  it('publishes an Endpoint change on NATS and the peers converge on it', async () => {
    const hints: Array<{ subject: string; at: number; privateIP: string }> = [];
    const sub = nats!.subscribe(BrokerEndpointSubject, {}, (msg, meta) => {
      hints.push({ subject: meta.subject, at: performance.now(), privateIP: msg.endpoint.privateIP });
    });
    await nats!.flush();
    const t0 = performance.now();
    await writeLocalEndpoint('cluster-a', '172.30.1.1');
    const hint = await waitFor('the hint', async () => hints.find((h) => h.privateIP === '172.30.1.1'), 30_000);
    expect(hint.subject).toBe('strait.broker.endpoint.cluster-a');
    await waitFor("b's and c's TunnelEndpoints to cluster-a's new address", async () => {
      const b = (await tepsOf('cluster-b')).get('cluster-a');
      const c = (await tepsOf('cluster-c')).get('cluster-a');
      return b?.spec.endpoint.address === '172.30.1.1' && c?.spec.endpoint.address === '172.30.1.1';
    });
    console.log(`[broker-sync] Endpoint change: hint on NATS after ${Math.round(hint.at - t0)} ms, both peers' TunnelEndpoints updated after ${Math.round(performance.now() - t0)} ms`);
    sub.unsubscribe();
    expect((await m('cluster-b').proc!.get('/metrics')).body).toMatch(/^strait_broker_sync_endpoint_hints_received_total [1-9]/m);
  });

  it('skips malformed remote objects (bad CIDR, missing key, unknown backend) with Events, keeps running and serving the other peers', async () => {
    const bad: Array<[string, Cluster, Endpoint]> = [];
    const c1 = brokerCluster('cluster-m', '10.9.0.0/16');
    bad.push(['cluster-m', { ...c1, spec: { ...c1.spec, podCIDRs: ['10.9.0.0/33'] } }, brokerEndpoint('cluster-m', '172.30.0.9')]);
    const e2 = brokerEndpoint('cluster-n', '172.30.0.10');
    bad.push(['cluster-n', brokerCluster('cluster-n', '10.10.0.0/16'), { ...e2, spec: { ...e2.spec, backendConfig: {} } }]);
    const e3 = brokerEndpoint('cluster-o', '172.30.0.11');
    bad.push(['cluster-o', brokerCluster('cluster-o', '10.11.0.0/16'), { ...e3, spec: { ...e3.spec, backend: 'carrier-pigeon' as never } }]);
    for (const [, c, e] of bad) {
      await adminBroker.clusters.create(c);
      await adminBroker.endpoints.create(e);
    }
    const events = await waitFor('a Warning Event per malformed cluster on the local Cluster', async () => {
      const list = (await m('cluster-a').events.list({ namespace: NS })).items.filter((e) => e.reason === 'RemoteClusterSkipped');
      const want = [/cluster-m skipped: Cluster: spec\.podCIDRs/, /cluster-n skipped: Endpoint/, /cluster-o skipped: Endpoint/];
      return want.every((re) => list.some((e) => re.test(e.note ?? ''))) ? list : undefined;
    });
    expect(events.every((e) => e.type === 'Warning' && e.regarding.kind === 'Cluster' && e.regarding.name === 'cluster-a')).toBe(true);
    const notes = events.map((e) => e.note ?? '');
    expect(notes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^remote cluster cluster-m skipped: Cluster: spec\.podCIDRs\[0\]/),
        expect.stringMatching(/^remote cluster cluster-n skipped: Endpoint: spec\.backendConfig: .*wireguard/),
        expect.stringMatching(/^remote cluster cluster-o skipped: Endpoint: spec\.backend: unsupported value "carrier-pigeon"/),
      ]),
    );
    // Still running, still serving b and c; nothing produced for the malformed ones.
    for (const x of MEMBERS) expect(m(x.id).proc!.exitStatus).toBeUndefined();
    expect([...(await tepsOf('cluster-a')).keys()].sort()).toEqual(['cluster-b', 'cluster-c']);
    expect((await m('cluster-a').proc!.get('/metrics')).body).toMatch(/^strait_broker_sync_skipped_remote_objects_total\{peer="cluster-o"\} [1-9]/m);
    for (const [id] of bad) {
      await adminBroker.endpoints.delete({ namespace: BROKER_NS, name: id });
      await adminBroker.clusters.delete({ namespace: BROKER_NS, name: id });
    }
  });

  it('keeps local state while the Broker API server is down, reports not ready, and converges when it returns', async () => {
    const before = await tepsOf('cluster-a');
    const uids = () => [...before.values()].map((t) => t.metadata?.uid);
    await broker.stopApiServer();
    const down = performance.now();
    try {
      const readyz = await waitFor('readiness to fail on the Broker', async () => {
        const r = await m('cluster-a').proc!.get('/readyz?verbose');
        return r.status !== 200 ? r : undefined;
      });
      expect(readyz.body).toContain('[-]broker-api');
      // A change made meanwhile cannot be exported yet.
      await writeLocalEndpoint('cluster-b', '172.30.1.2');
      await new Promise((r) => setTimeout(r, 3000));
      const during = await tepsOf('cluster-a');
      expect([...during.keys()].sort()).toEqual([...before.keys()].sort());
      for (const [k, t] of during) expect(t.spec).toEqual(before.get(k)?.spec);
      for (const x of MEMBERS) expect(m(x.id).proc!.exitStatus).toBeUndefined();
    } finally {
      await broker.startApiServer();
    }
    const up = performance.now();
    await waitFor("cluster-a's TunnelEndpoint to b's new address after the Broker returned", async () => (await tepsOf('cluster-a')).get('cluster-b')?.spec.endpoint.address === '172.30.1.2', 90_000);
    await m('cluster-a').proc!.waitForReady(30_000);
    // Nobody could renew a heartbeat during the outage; no peer was taken for stale (same objects, never re-created).
    await new Promise((r) => setTimeout(r, 6000));
    const after = await tepsOf('cluster-a');
    expect([...after.values()].map((t) => t.metadata?.uid)).toEqual(uids());
    expect((await m('cluster-a').proc!.get('/metrics')).body).toMatch(/^strait_broker_sync_removed_clusters_total\{reason="stale"\} 0$/m);
    console.log(`[broker-sync] Broker down ${Math.round(up - down)} ms; the change made meanwhile reached cluster-a ${Math.round(performance.now() - up)} ms after the API server was ready again`);
  });

  it('removes a cluster whose heartbeat is stale, imports it again when it returns, and removes it when it leaves the Broker', async () => {
    const stop = await m('cluster-c').proc!.stop('SIGTERM', 10_000);
    expect(stop.code).toBe(0);
    const t0 = performance.now();
    await waitFor('a and b to drop the stale cluster-c', async () => !(await tepsOf('cluster-a')).has('cluster-c') && !(await tepsOf('cluster-b')).has('cluster-c'), 60_000);
    console.log(`[broker-sync] stale cluster-c (--stale-after=5s) removed ${Math.round(performance.now() - t0)} ms after its broker-sync stopped`);
    expect((await m('cluster-a').nms.list({ namespace: NS })).items.map((n) => n.metadata?.name)).toEqual(['cluster-b']);
    // Stopping left c's own state: its TunnelEndpoints are still there.
    expect([...(await tepsOf('cluster-c')).keys()].sort()).toEqual(['cluster-a', 'cluster-b']);

    startSync('cluster-c');
    await waitFor('cluster-c imported again', async () => (await tepsOf('cluster-a')).has('cluster-c') && (await tepsOf('cluster-b')).has('cluster-c'), 60_000);
    await m('cluster-c').proc!.stop('SIGTERM', 10_000);

    const t1 = performance.now();
    await adminBroker.endpoints.delete({ namespace: BROKER_NS, name: 'cluster-c' });
    await adminBroker.clusters.delete({ namespace: BROKER_NS, name: 'cluster-c' });
    await waitFor('a and b to drop cluster-c after it left the Broker', async () => !(await tepsOf('cluster-a')).has('cluster-c') && !(await tepsOf('cluster-b')).has('cluster-c'), 30_000);
    console.log(`[broker-sync] cluster-c left the Broker: its TunnelEndpoints removed after ${Math.round(performance.now() - t1)} ms`);
    expect((await m('cluster-a').nms.list({ namespace: NS })).items.map((n) => n.metadata?.name)).toEqual(['cluster-b']);
    const removedEvents = (await m('cluster-a').events.list({ namespace: NS })).items.filter((e) => e.reason === 'RemoteClusterRemoved').map((e) => e.note);
    expect(removedEvents).toEqual(expect.arrayContaining([expect.stringContaining('cluster-c sent no heartbeat'), expect.stringContaining('cluster-c left the Broker')]));
    const metrics = (await m('cluster-a').proc!.get('/metrics')).body;
    const removals = m('cluster-a').proc!.logs().filter((l) => l['msg'] === 'remote cluster removed' || l['msg'] === 'remote cluster skipped');
    console.log(`[broker-sync] cluster-a skipped and removed peers: ${JSON.stringify(removals.map((l) => [l['peer'], l['reason']]))}`);
    expect(metrics).toMatch(/^strait_broker_sync_removed_clusters_total\{reason="stale"\} 1$/m);
    expect(metrics).toMatch(/^strait_broker_sync_removed_clusters_total\{reason="left"\} 1$/m);
  });

  it('exits 0 on SIGTERM and leaves every local object in place', async () => {
    const before = [...(await tepsOf('cluster-a')).keys()];
    const s = await m('cluster-a').proc!.stop('SIGTERM', 10_000);
    expect(s).toMatchObject({ code: 0, signal: null });
    expect([...(await tepsOf('cluster-a')).keys()]).toEqual(before);
  });
});
