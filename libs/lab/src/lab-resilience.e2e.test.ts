import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterResource, NatMappingResource, TunnelEndpointResource, type Cluster, type NatMapping, type TunnelEndpoint } from '@strait/api';
import { CrClient } from '@strait/kube';
import { loadKubeConfig } from '@strait/testing';
import { labCheck, labDown, labFailover, labNetns, labUp } from './client.ts';
import { labControl } from './control-client.ts';
import { viewMembers } from './cluster-view.ts';
import { STRAIT_NAMESPACE } from './constants.ts';
import { labFiles } from './paths.ts';
import { DEFAULT_LAB_OPTIONS } from './plan.ts';
import { LAB_SERVICES, type LabService } from './services.ts';
import { allPids, pidAlive, readState, type LabState, type ServiceState } from './state.ts';
import { capture } from './testing/capture.ts';
import { PingStream, formatTraffic, pingAcross, type TrafficSummary } from './testing/traffic.ts';

const io = () => {
  const out = capture();
  const err = capture();
  return { out, err, io: { stdout: out.stream, stderr: err.stream } };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Echo requests every 20 ms (50 per second). */
const INTERVAL_MS = 20;
/** A service that is not the active gateway may cost this much of the datapath at most when it restarts (a generous bound: the property is "no interruption"). */
const NO_INTERRUPTION_GAP_MS = 1_000;

/** One sample of a Prometheus text exposition: the sum of every series of `name`. */
function metricSum(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (m) sum = (sum ?? 0) + Number(m[1]);
  }
  return sum;
}

async function metrics(s: ServiceState): Promise<string> {
  try {
    return await (await fetch(`${s.probe}/metrics`, { signal: AbortSignal.timeout(3_000) })).text();
  } catch {
    return '';
  }
}

async function ready(s: ServiceState): Promise<boolean> {
  try {
    return (await fetch(`${s.probe}/readyz`, { signal: AbortSignal.timeout(3_000) })).ok;
  } catch {
    return false;
  }
}

/**
 * The lab's resilience scenarios on one default lab (two clusters of two gateway nodes and a worker),
 * while a pod of cluster-1 pings a pod of cluster-2 50 times a second: every service replica restarted in
 * turn, NATS stopped for a minute (with a graceful failover meanwhile), the Broker's API server stopped
 * and started; then NatMappings to a pod and to a host outside the cluster. Losses and durations are
 * printed; only "no interruption" properties are asserted.
 */
describe('straitctl lab: resilience (service restarts, NATS outage, Broker API server outage) and NatMappings', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'strait-lab-resilience-')), 'lab');
  const control = labControl(dir);
  const figures: string[] = [];
  let state: LabState;
  let firstPids: number[] = [];
  let netnsPrefix = '';
  let controlPlaneDir = '';
  const current = () => readState(labFiles(dir).state)!;
  const services = () => current().clusters.flatMap((c) => c.services);
  const record = (line: string) => {
    figures.push(line);
    console.log(`[resilience] ${line}`);
  };

  /** A ping stream from cluster-1's probe pod to cluster-2's, at the address cluster-1 knows it by. */
  const stream = async (): Promise<PingStream> => {
    const s = await pingAcross(current(), 'cluster-1', 'cluster-2', INTERVAL_MS);
    // Traffic flows before the scenario starts.
    await expect.poll(() => s.received, { timeout: 10_000, interval: 50 }).toBeGreaterThan(5);
    return s;
  };
  const checkPasses = async (): Promise<void> => {
    const t = io();
    const code = await labCheck(dir, { json: true }, t.io);
    expect(code, t.out.text).toBe(0);
  };
  const tunnelsConnected = async (): Promise<string[]> => (await viewMembers(current())).flatMap((v) => v.tunnels.map((t) => `${v.cluster}→${t.peer} ${t.phase}`));
  const localCluster = (cluster: string) => {
    const c = current().clusters.find((x) => x.name === cluster)!;
    return new CrClient<Cluster>(loadKubeConfig(c.kubeconfig), ClusterResource).get({ namespace: STRAIT_NAMESPACE, name: cluster });
  };
  const brokerSynced = async (cluster: string) => (await localCluster(cluster))?.status?.conditions?.find((c) => c.type === 'BrokerSynced');

  beforeAll(async () => {
    const t = io();
    const t0 = performance.now();
    const code = await labUp(dir, DEFAULT_LAB_OPTIONS, t.io);
    record(`lab up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(t.err.text).toBe('');
    expect(code, t.out.text).toBe(0);
    state = current();
    firstPids = allPids(state);
    netnsPrefix = state.netnsPrefix ?? '';
    controlPlaneDir = state.controlPlaneDir ?? '';
  });

  afterAll(async () => {
    // Whatever happened above, leave nothing behind.
    console.log(`[resilience] figures:\n  ${figures.join('\n  ')}`);
    await labDown(dir, io().io);
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('refuses an unknown service replica with a message naming what runs there', async () => {
    await expect(control.restartService({ cluster: 'cluster-1', service: 'route-agent' })).rejects.toThrow(/route-agent runs on 3 nodes of cluster-1: name one/);
    await expect(control.restartService({ cluster: 'cluster-1', service: 'nope' })).rejects.toThrow(/no nope in cluster-1 \(there: tunnel-operator@cluster-1-g1/);
  });

  it('every service replica restarted in turn: the datapath keeps working', async () => {
    const order = services().sort((a, b) => LAB_SERVICES.indexOf(a.name as LabService) - LAB_SERVICES.indexOf(b.name as LabService) || a.cluster.localeCompare(b.cluster) || (a.node ?? '').localeCompare(b.node ?? ''));
    expect(order.length).toBe(18);
    for (const svc of order) {
      // The active gateway of the service's cluster now (a restarted active tunnel-operator hands over).
      const view = (await viewMembers(current())).find((v) => v.cluster === svc.cluster)!;
      const activeNode = view.gateways.find((g) => g.role === 'active')?.node;
      const onActive = svc.node === activeNode && (svc.name === 'tunnel-operator' || svc.name === 'natmapping-operator');
      const role = svc.name === 'tunnel-operator' || svc.name === 'natmapping-operator' ? (svc.node === activeNode ? 'active gateway' : 'standby gateway') : `node ${svc.node}`;
      const ping = await stream();
      const r = await control.restartService({ cluster: svc.cluster, service: svc.name, ...(svc.node ? { node: svc.node } : {}) });
      await checkPasses();
      await sleep(300);
      const traffic = await ping.stop();
      record(`restart ${r.name} (${role}): exited ${r.exitedMs} ms, ready again ${r.readyMs} ms after SIGTERM; traffic ${formatTraffic(traffic)}`);
      expect(r.newPid).not.toBe(r.oldPid);
      if (!onActive) expect(traffic.longestGapMs, `${r.name} (${role}) interrupted the datapath`).toBeLessThanOrEqual(NO_INTERRUPTION_GAP_MS);
    }
    expect((await tunnelsConnected()).every((t) => t.endsWith('Connected'))).toBe(true);
  });

  it('NATS stopped for a minute: a graceful failover still converges through Kubernetes; the services reconnect when it is back', async () => {
    const withBus = (await Promise.all(services().map(async (s) => ({ s, m: await metrics(s) })))).filter((x) => metricSum(x.m, 'strait_bus_connected') !== undefined);
    expect(withBus.length).toBeGreaterThan(0);
    // By pid: a process restarted meanwhile starts its counters again.
    const reconnectsBefore = new Map(withBus.map((x) => [x.s.pid, metricSum(x.m, 'strait_bus_reconnects_total') ?? 0]));
    const ping = await stream();
    const t0 = performance.now();
    const stopped = await control.stopNats();
    record(`NATS stopped in ${stopped.ms} ms`);
    // The services see the outage (disconnected) but stay ready: NATS only carries hints, and a NATS outage
    // must not take pods out of their Services' endpoints (the `nats` readiness check is informational).
    await expect.poll(async () => (await Promise.all(withBus.map(async (x) => metricSum(await metrics(x.s), 'strait_bus_connected')))).every((v) => v === 0), { timeout: 30_000, interval: 500 }).toBe(true);
    const notReady = (await Promise.all(services().map(async (s) => ((await ready(s)) ? undefined : `${s.cluster}/${s.name}@${s.node}`)))).filter(Boolean);
    record(`without NATS: ${withBus.length} services with a bus connection all disconnected; not ready: ${notReady.length} (${notReady.join(', ')})`);
    expect(notReady).toEqual([]);

    const f = io();
    expect(await labFailover(dir, { cluster: 'cluster-1', crash: false, json: true }, f.io), f.err.text).toBe(0);
    const fo = JSON.parse(f.out.text) as { from: string; to: string; newActiveMs: number; tunnelsMs: number };
    record(`graceful failover of cluster-1 without NATS ${fo.from} → ${fo.to}: new active after ${fo.newActiveMs} ms, tunnels Connected after ${fo.tunnelsMs} ms`);
    await checkPasses();
    expect((await tunnelsConnected()).every((t) => t.endsWith('Connected'))).toBe(true);
    const rest = 60_000 - (performance.now() - t0);
    if (rest > 0) await sleep(rest);
    await checkPasses();

    const started = await control.startNats();
    const t1 = performance.now();
    record(`NATS started again after ${((performance.now() - t0) / 1000).toFixed(1)} s, ready in ${started.ms} ms`);
    // Every service connected and ready again (the failed-over operator, restarted meanwhile, too).
    await expect
      .poll(async () => (await Promise.all(services().map(async (s) => (await ready(s)) && metricSum(await metrics(s), 'strait_bus_connected') !== 0))).every(Boolean), { timeout: 90_000, interval: 500 })
      .toBe(true);
    const throughout = services().filter((s) => reconnectsBefore.has(s.pid));
    const reconnects = await Promise.all(throughout.map(async (s) => (metricSum(await metrics(s), 'strait_bus_reconnects_total') ?? 0) - (reconnectsBefore.get(s.pid) ?? 0)));
    record(`every service connected and ready ${Math.round(performance.now() - t1)} ms after NATS started; strait_bus_reconnects_total rose on ${reconnects.filter((n) => n > 0).length} of the ${throughout.length} processes that ran throughout the outage (${services().length - throughout.length} restarted meanwhile started connected)`);
    expect(reconnects.every((n) => n > 0)).toBe(true);
    const traffic = await ping.stop();
    record(`traffic during the NATS outage (failover included): ${formatTraffic(traffic)}`);
    await checkPasses();
  });

  it("the Broker's API server stopped: tunnels stay up and nothing is removed; broker-sync reports it and recovers", async () => {
    const brokerSyncs = () => services().filter((s) => s.name === 'broker-sync');
    const removedBefore = await Promise.all(brokerSyncs().map(async (s) => metricSum(await metrics(s), 'strait_broker_sync_removed_clusters_total') ?? 0));
    const tunnelsBefore = await tunnelsConnected();
    const ping = await stream();
    const t0 = performance.now();
    const stopped = await control.stopBrokerApiServer();
    record(`Broker kube-apiserver stopped in ${stopped.ms} ms`);
    // broker-sync reports the outage: broker_up 0 and BrokerSynced False (BrokerUnreachable) on each member.
    await expect.poll(async () => Promise.all(brokerSyncs().map(async (s) => metricSum(await metrics(s), 'strait_broker_sync_broker_up'))), { timeout: 60_000, interval: 500 }).toEqual([0, 0]);
    await expect.poll(async () => Promise.all(['cluster-1', 'cluster-2'].map(async (c) => (await brokerSynced(c))?.reason)), { timeout: 60_000, interval: 500 }).toEqual(['BrokerUnreachable', 'BrokerUnreachable']);
    record(`broker-sync reported the outage (broker_up 0, BrokerSynced False/BrokerUnreachable) ${Math.round(performance.now() - t0)} ms after the SIGTERM (kube-apiserver's graceful stop took ${stopped.ms} ms of it)`);
    // Down for 30 s: longer than the heartbeat interval (5 s) several times over.
    while (performance.now() - t0 < 30_000) await sleep(500);
    await checkPasses();
    expect(await tunnelsConnected()).toEqual(tunnelsBefore);

    const started = await control.startBrokerApiServer();
    const t1 = performance.now();
    record(`Broker kube-apiserver started again after ${((performance.now() - t0) / 1000).toFixed(1)} s, ready in ${started.ms} ms`);
    await expect.poll(async () => Promise.all(['cluster-1', 'cluster-2'].map(async (c) => (await brokerSynced(c))?.status)), { timeout: 90_000, interval: 500 }).toEqual(['True', 'True']);
    await expect.poll(async () => Promise.all(brokerSyncs().map(async (s) => metricSum(await metrics(s), 'strait_broker_sync_broker_up'))), { timeout: 30_000, interval: 500 }).toEqual([1, 1]);
    record(`broker-sync recovered (BrokerSynced True, broker_up 1) ${Math.round(performance.now() - t1)} ms after the start`);
    // A few more passes with the Broker back: the peers' heartbeats are old, yet nothing is judged stale.
    await sleep(12_000);
    const traffic: TrafficSummary = await ping.stop();
    record(`traffic during the Broker outage: ${formatTraffic(traffic)}`);
    expect(traffic.longestGapMs, 'the Broker outage interrupted the datapath').toBeLessThanOrEqual(NO_INTERRUPTION_GAP_MS);
    const removedAfter = await Promise.all(brokerSyncs().map(async (s) => metricSum(await metrics(s), 'strait_broker_sync_removed_clusters_total') ?? 0));
    expect(removedAfter).toEqual(removedBefore);
    expect(await tunnelsConnected()).toEqual(tunnelsBefore);
    await checkPasses();
  });

  it("NatMappings: a pod of cluster-2 reaches a cluster-1 pod and a host outside cluster-1 through cluster-1's external addresses", async () => {
    const st = current();
    const run = st.netnsPrefix!;
    const c1 = st.clusters.find((c) => c.name === 'cluster-1')!;
    const c2 = st.clusters.find((c) => c.name === 'cluster-2')!;
    const kc1 = loadKubeConfig(c1.kubeconfig);
    const kc2 = loadKubeConfig(c2.kubeconfig);
    // cluster-1's external CIDR: the addresses it offers to its peers (outside every pod, service, node and WAN range).
    const externalCidr = '10.201.0.0/24';
    const t0 = performance.now();
    await new CrClient<Cluster>(kc1, ClusterResource).patch({ namespace: STRAIT_NAMESPACE, name: 'cluster-1' }, { spec: { externalCIDR: externalCidr } }, { type: 'merge' });
    // broker-sync exports it; cluster-2's TunnelEndpoint to cluster-1 carries it, cluster-1's NatMapping for cluster-2 offers it.
    await expect
      .poll(async () => (await new CrClient<TunnelEndpoint>(kc2, TunnelEndpointResource).get({ namespace: STRAIT_NAMESPACE, name: 'cluster-1' }))?.spec.remote.externalCIDR, { timeout: 60_000, interval: 500 })
      .toBe(externalCidr);
    const natMappings = new CrClient<NatMapping>(kc1, NatMappingResource);
    await expect.poll(async () => (await natMappings.get({ namespace: STRAIT_NAMESPACE, name: 'cluster-2' }))?.spec.externalCIDR, { timeout: 60_000, interval: 500 }).toBe(externalCidr);
    record(`external CIDR ${externalCidr} of cluster-1 in cluster-2's TunnelEndpoint and cluster-1's NatMapping after ${Math.round(performance.now() - t0)} ms`);

    // A host outside cluster-1 on its node network: its own namespace (named with the lab's prefix, so
    // `lab down` removes it), a veth into the cluster's switch, a route to cluster-2's pods via the active gateway.
    const view = (await viewMembers(st)).find((v) => v.cluster === 'cluster-1')!;
    const active = st.nodes.find((n) => n.gatewayPod === view.holder)!;
    const host = { netns: `${run}-cluster-1-x1`, ifname: `${run}-1x1`, port: `${run}-1x1s`, ip: '192.168.1.200' };
    const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
    ip('netns', 'add', host.netns);
    ip('link', 'add', host.ifname, 'netns', host.netns, 'type', 'veth', 'peer', 'name', host.port, 'netns', `${run}-cluster-1-sw`);
    ip('-n', `${run}-cluster-1-sw`, 'link', 'set', host.port, 'master', `${run}-br`, 'up');
    ip('-n', host.netns, 'link', 'set', 'lo', 'up');
    ip('-n', host.netns, 'addr', 'add', `${host.ip}/24`, 'dev', host.ifname);
    ip('-n', host.netns, 'link', 'set', host.ifname, 'up');
    ip('-n', host.netns, 'route', 'add', c2.podCidr!, 'via', active.ip);

    const pod = st.pods.find((p) => p.cluster === 'cluster-1' && p.node === 'cluster-1-w1')!;
    const entries = [
      { externalIP: '10.201.0.10', realIP: pod.ip, description: `pod ${pod.name}` },
      { externalIP: '10.201.0.20', realIP: host.ip, description: 'a host outside the cluster' },
    ];
    const t1 = performance.now();
    await natMappings.patch({ namespace: STRAIT_NAMESPACE, name: 'cluster-2' }, { spec: { entries } }, { type: 'merge' });
    await expect
      .poll(async () => ((await natMappings.get({ namespace: STRAIT_NAMESPACE, name: 'cluster-2' }))?.status?.nodes ?? []).map((n) => `${n.node}:${n.programmed}`).sort(), { timeout: 60_000, interval: 250 })
      .toEqual(st.nodes.filter((n) => n.cluster === 'cluster-1' && n.role === 'gateway').map((n) => `${n.name}:2`).sort());
    record(`2 NatMapping entries programmed on both cluster-1 gateway nodes ${Math.round(performance.now() - t1)} ms after the write`);

    // From a pod of cluster-2, the external addresses answer: the pod's through the pod, the host's through the host.
    const source = st.pods.find((p) => p.cluster === 'cluster-2' && p.node === 'cluster-2-w1')!;
    const ping = (address: string) => {
      try {
        return execFileSync('ip', ['netns', 'exec', source.netns, 'ping', '-n', '-c', '3', '-i', '0.2', '-W', '1', address], { encoding: 'utf8' });
      } catch (err) {
        return String((err as { stdout?: string }).stdout ?? err);
      }
    };
    // Packets received by every interface but lo of a namespace: the real target is the one that answers.
    const rxPackets = (netns: string) =>
      (JSON.parse(ip('-n', netns, '-s', '-j', 'link', 'show')) as Array<{ ifname: string; stats64?: { rx?: { packets?: number } } }>)
        .filter((l) => l.ifname !== 'lo')
        .reduce((n, l) => n + (l.stats64?.rx?.packets ?? 0), 0);
    for (const [e, target] of [[entries[0]!, pod.netns], [entries[1]!, host.netns]] as const) {
      const t = performance.now();
      let attempts = 0;
      const before = rxPackets(target);
      await expect.poll(() => (attempts++, / 0% packet loss/.test(ping(e.externalIP))), { timeout: 30_000, interval: 500 }).toBe(true);
      const received = rxPackets(target) - before;
      record(`${source.name} (cluster-2) → ${e.externalIP} (${e.description}, ${e.realIP}): 3/3 replies at attempt ${attempts}, ${Math.round(performance.now() - t)} ms; the target received ${received} packets meanwhile`);
      expect(received).toBeGreaterThanOrEqual(3);
    }
  });

  it('down ends every process, including the restarted ones, and removes every namespace and file', async () => {
    const pids = [...new Set([...firstPids, ...allPids(current())])];
    const t = io();
    expect(await labDown(dir, t.io)).toBe(0);
    expect(t.out.text).toMatch(/Lab stopped: \d+ processes ended/);
    expect(pids.filter(pidAlive)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect(controlPlaneDir === '' || !existsSync(controlPlaneDir)).toBe(true);
    expect(netnsPrefix).not.toBe('');
    expect(labNetns(netnsPrefix)).toEqual([]);
    await expect(control.stopNats()).rejects.toThrow(/no lab is running/);
  });
});
