/**
 * labeler-operator against the shared control plane (kube-apiserver + kube-controller-manager + NATS), in its own
 * namespace: three Running/Ready gateway Pods bound to Node objects, a Service selecting
 * `net.strait.io/gateway=active`, and a gateway Lease this test writes directly, as the gateway would.
 * A watcher checks every committed pod state: never two `active` pods. kube-controller-manager computes the
 * Service's EndpointSlice, which must point at exactly the active pod after every change.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GATEWAY_APP_LABEL, GATEWAY_APP_LABEL_VALUE, GATEWAY_LEASE_NAME, GATEWAY_POD_SELECTOR, GATEWAY_ROLE_LABEL } from '@strait/api';
import { connectBus, GatewayLeaderSubject, type Bus } from '@strait/bus';
import {
  ConfigMapResource,
  CrClient,
  EventResource,
  Informer,
  isConflict,
  LeaseResource,
  NamespaceResource,
  NodeResource,
  PodResource,
  RestClient,
  type EventsV1Event,
  type KubeObject,
  type Lease,
  type ResourceClient,
} from '@strait/kube';
import { createRegistry, type Registry } from '@strait/observability';
import { startServiceProcess, type ServiceProcess } from '@strait/runtime/testing';
import { sharedControlPlane, sharedKubeConfig } from '@strait/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayPod } from './gateway-roles.ts';
import { startLabelerOperator, type LabelerOperator } from './operator.ts';

const ROLE = GATEWAY_ROLE_LABEL;
const APP = { [GATEWAY_APP_LABEL]: GATEWAY_APP_LABEL_VALUE };
const suffix = Math.random().toString(36).slice(2, 8);
const ns = `strait-lbl-${suffix}`;
const clusterId = `it-${suffix}`;
const GATEWAY_LEASE = GATEWAY_LEASE_NAME;
const GATEWAY_SERVICE = 'gateway';
const POD_NAMES = ['gw-0', 'gw-1', 'gw-2'] as const;
const IP: Record<string, string> = { 'gw-0': '10.244.7.10', 'gw-1': '10.244.7.11', 'gw-2': '10.244.7.12' };
const nodeName = (i: number) => `${ns}-node-${i}`;
const logger = pino({ level: process.env['STRAIT_TEST_LOG'] ?? 'warn' }, process.stderr);

const ServiceResource = { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true } as const;
const ServiceAccountResource = { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true } as const;
const EndpointSliceResource = { group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true } as const;

interface PodSpecJson {
  nodeName: string;
  automountServiceAccountToken: boolean;
  terminationGracePeriodSeconds: number;
  containers: Array<{ name: string; image: string }>;
}
type Pod = GatewayPod & { spec?: PodSpecJson };
interface EndpointSlice extends KubeObject {
  endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean }; targetRef?: { name?: string } }> | null;
}
type AnyObj = KubeObject & Record<string, unknown>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const microTime = () => new Date().toISOString().replace('Z', '000Z');

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
  const r = (v: number) => Math.round(v * 10) / 10;
  return { n: s.length, p50: r(q(0.5)), p90: r(q(0.9)), p99: r(q(0.99)), max: r(s[s.length - 1] ?? Number.NaN), mean: r(s.reduce((a, b) => a + b, 0) / (s.length || 1)) };
}

let rest: RestClient;
let pods: CrClient<Pod>;
let leases: CrClient<Lease>;
let bus: Bus;
let podWatch: PodWatch;
let sliceWatch: SliceWatch;
const running: LabelerOperator[] = [];
const processes: ServiceProcess[] = [];
let tmp: string;

/** Every committed state of the gateway pods' role labels, in order. */
class PodWatch {
  readonly informer: Informer<Pod>;
  readonly roles = new Map<string, string | undefined>();
  readonly uids = new Map<string, string | undefined>();
  maxActive = 0;
  events = 0;
  readonly violations: Array<{ at: number; active: string[]; rv: string | undefined }> = [];
  private readonly listeners = new Set<() => void>();

  constructor(client: ResourceClient<Pod>) {
    this.informer = new Informer<Pod>({ client, namespace: ns, labelSelector: GATEWAY_POD_SELECTOR, logger, name: 'test pod watch' });
    const see = (p: Pod, gone = false) => {
      this.events++;
      if (gone) this.roles.delete(p.metadata.name);
      else {
        this.roles.set(p.metadata.name, p.metadata.labels?.[ROLE]);
        this.uids.set(p.metadata.name, p.metadata.uid);
      }
      const active = this.active();
      this.maxActive = Math.max(this.maxActive, active.length);
      if (active.length > 1) this.violations.push({ at: performance.now(), active, rv: p.metadata.resourceVersion });
      for (const l of [...this.listeners]) l();
    };
    this.informer.addEventHandler({ onAdd: (p) => see(p), onUpdate: (_o, p) => see(p), onDelete: (p) => see(p, true) });
  }

  active(): string[] {
    return [...this.roles].filter(([, r]) => r === 'active').map(([n]) => n);
  }

  /** Resolves with the time (performance.now) of the first event at which `pred` holds. */
  until(pred: () => boolean, timeoutMs: number, what: string): Promise<number> {
    if (pred()) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pred()) return;
        cleanup();
        resolve(performance.now());
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; roles ${JSON.stringify(Object.fromEntries(this.roles))}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  onlyActive(name: string): boolean {
    const a = this.active();
    return a.length === 1 && a[0] === name && POD_NAMES.every((p) => this.roles.get(p) === (p === name ? 'active' : 'standby'));
  }
}

/** The ready addresses of the Service's EndpointSlices (kube-controller-manager writes them). */
class SliceWatch {
  readonly informer: Informer<EndpointSlice>;
  maxAddresses = 0;
  private readonly listeners = new Set<() => void>();

  constructor(client: ResourceClient<EndpointSlice>) {
    this.informer = new Informer<EndpointSlice>({ client, namespace: ns, labelSelector: `kubernetes.io/service-name=${GATEWAY_SERVICE}`, logger, name: 'test slice watch' });
    const see = () => {
      this.maxAddresses = Math.max(this.maxAddresses, this.addresses().length);
      for (const l of [...this.listeners]) l();
    };
    this.informer.addEventHandler({ onAdd: see, onUpdate: see, onDelete: see });
  }

  addresses(): string[] {
    const out: string[] = [];
    for (const s of this.informer.list()) for (const e of s.endpoints ?? []) if (e.conditions?.ready !== false) out.push(...e.addresses);
    return out.sort();
  }

  until(ips: string[], timeoutMs: number): Promise<number> {
    const want = JSON.stringify([...ips].sort());
    const ok = () => JSON.stringify(this.addresses()) === want;
    if (ok()) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!ok()) return;
        cleanup();
        resolve(performance.now());
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for EndpointSlice addresses ${want}; have ${JSON.stringify(this.addresses())}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }
}

/** The gateway Lease, written directly as the gateway's leader election would (one replace per change). */
let lastLease: Lease | undefined;
async function setHolder(holder: string): Promise<void> {
  for (;;) {
    const cur = lastLease ?? (await leases.get({ namespace: ns, name: GATEWAY_LEASE }));
    if (!cur) throw new Error('gateway Lease missing');
    const spec = cur.spec ?? {};
    try {
      lastLease = await leases.replace({
        ...cur,
        spec: { ...spec, holderIdentity: holder, leaseDurationSeconds: 15, renewTime: microTime(), acquireTime: microTime(), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 },
      });
      return;
    } catch (err) {
      if (!isConflict(err)) throw err;
      lastLease = undefined;
    }
  }
}

function podManifest(name: string, i: number): Pod {
  return {
    metadata: { name, namespace: ns, labels: { ...APP } },
    spec: {
      nodeName: nodeName(i),
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'gateway', image: 'strait.invalid/gateway:test' }],
    },
  };
}

/** Creates a pod bound to its node and marks it Running and Ready with its pod IP (there is no kubelet). */
async function createReadyPod(name: string, i: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await pods.create(podManifest(name, i));
      break;
    } catch (err) {
      // The namespace's default ServiceAccount may not exist yet (kube-controller-manager creates it).
      if (attempt > 100 || !String(err).includes('serviceaccount')) throw err;
      await sleep(100);
    }
  }
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await pods.patchStatus(
    { namespace: ns, name },
    {
      status: {
        phase: 'Running',
        hostIP: `192.0.2.${10 + i}`,
        podIP: IP[name],
        podIPs: [{ ip: IP[name] }],
        startTime: now,
        conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: now })),
      },
    },
    { type: 'merge' },
  );
}

function startInProcess(identity: string, opts: { registry?: Registry; bus?: Bus; gatewayLeases?: ResourceClient<Lease> } = {}): LabelerOperator {
  const op = startLabelerOperator({
    kubeConfig: sharedKubeConfig(),
    ...(opts.gatewayLeases ? { clients: { gatewayLeases: opts.gatewayLeases } } : {}),
    bus: opts.bus,
    clusterId,
    namespace: ns,
    gatewayLeaseName: GATEWAY_LEASE,
    podSelector: GATEWAY_POD_SELECTOR,
    identity,
    election: { leaseName: 'strait-labeler', leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 250 },
    logger: logger.child({ labeler: identity }),
    registry: opts.registry,
  });
  running.push(op);
  return op;
}

async function stopInProcess(op: LabelerOperator): Promise<void> {
  await op.stop();
  running.splice(running.indexOf(op), 1);
}

async function connectTestBus(name: string): Promise<Bus> {
  const cp = sharedControlPlane();
  return connectBus({ servers: cp.nats.url, name, user: cp.nats.user, password: cp.nats.password, logger, waitForFirstConnect: true, firstConnectTimeoutMs: 10_000 });
}

function publishHint(holder: string): boolean {
  return bus.publish(GatewayLeaderSubject, { cluster: clusterId }, { cluster: clusterId, holder, node: 'node', leaseTransitions: 1, timestamp: new Date().toISOString() });
}

beforeAll(async () => {
  rest = new RestClient(sharedKubeConfig(), { timeoutMs: 10_000 });
  pods = new CrClient<Pod>(rest, PodResource, { fieldManager: 'labeler-int-test' });
  leases = new CrClient<Lease>(rest, LeaseResource, { fieldManager: 'labeler-int-test' });
  tmp = mkdtempSync(join(tmpdir(), 'strait-labeler-int-'));
  await new CrClient<AnyObj>(rest, NamespaceResource).create({ metadata: { name: ns } });
  const nodes = new CrClient<AnyObj>(rest, NodeResource);
  for (let i = 0; i < POD_NAMES.length; i++) await nodes.create({ metadata: { name: nodeName(i), labels: { 'strait.io/gateway': 'true' } } });
  const sas = new CrClient<AnyObj>(rest, ServiceAccountResource);
  for (let i = 0; !(await sas.get({ namespace: ns, name: 'default' })); i++) {
    if (i > 300) throw new Error('the default ServiceAccount never appeared');
    await sleep(100);
  }
  await Promise.all(POD_NAMES.map((n, i) => createReadyPod(n, i)));
  await new CrClient<AnyObj>(rest, ServiceResource).create({
    metadata: { name: GATEWAY_SERVICE, namespace: ns },
    spec: { selector: { ...APP, [ROLE]: 'active' }, ports: [{ name: 'tunnel', protocol: 'UDP', port: 4500, targetPort: 4500 }] },
  });
  lastLease = await leases.create({
    metadata: { name: GATEWAY_LEASE, namespace: ns },
    spec: { holderIdentity: 'gw-0', leaseDurationSeconds: 15, renewTime: microTime(), acquireTime: microTime(), leaseTransitions: 0 },
  });
  podWatch = new PodWatch(pods);
  sliceWatch = new SliceWatch(new CrClient<EndpointSlice>(rest, EndpointSliceResource));
  podWatch.informer.start();
  sliceWatch.informer.start();
  await Promise.all([podWatch.informer.waitForSync({ timeoutMs: 10_000 }), sliceWatch.informer.waitForSync({ timeoutMs: 10_000 })]);
  bus = await connectTestBus('labeler-int-test');
});

afterAll(async () => {
  for (const p of processes) await p.kill();
  await Promise.all(running.splice(0).map((o) => o.stop().catch(() => undefined)));
  await bus?.close();
  await podWatch?.informer.stop();
  await sliceWatch?.informer.stop();
  if (rest) {
    await new CrClient<AnyObj>(rest, NamespaceResource).delete({ name: ns }).catch(() => undefined);
    const nodes = new CrClient<AnyObj>(rest, NodeResource);
    for (let i = 0; i < POD_NAMES.length; i++) await nodes.delete({ name: nodeName(i) }).catch(() => undefined);
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('labeler-operator against kube-apiserver and kube-controller-manager', () => {
  let op: LabelerOperator;
  const registry = createRegistry({ defaultMetrics: false });

  it('labels the holder active and the others standby; the EndpointSlice points at the active pod', async () => {
    const t0 = performance.now();
    op = startInProcess('labeler-a', { registry });
    await podWatch.until(() => podWatch.onlyActive('gw-0'), 15_000, 'gw-0 the only active pod');
    const labelled = performance.now() - t0;
    await sliceWatch.until([IP['gw-0'] as string], 15_000);
    console.log(`[labeler] start → pods labelled: ${labelled.toFixed(0)} ms; EndpointSlice → ${IP['gw-0']}: ${(performance.now() - t0).toFixed(0)} ms`);
    expect(podWatch.maxActive).toBe(1);
  });

  /** `n` handovers, each waited for: Lease write → holder the only active pod → EndpointSlice = [holder IP]. */
  async function settledHandovers(n: number): Promise<{ labelMs: number[]; sliceMs: number[] }> {
    const labelMs: number[] = [];
    const sliceMs: number[] = [];
    let holder = podWatch.active()[0] ?? 'gw-0';
    for (let i = 0; i < n; i++) {
      holder = POD_NAMES[(POD_NAMES.indexOf(holder as (typeof POD_NAMES)[number]) + 1 + (i % 2)) % 3] as string;
      const want = holder;
      const t0 = performance.now();
      await setHolder(want);
      const tLabel = await podWatch.until(() => podWatch.onlyActive(want), 10_000, `${want} the only active pod`);
      const tSlice = await sliceWatch.until([IP[want] as string], 10_000);
      labelMs.push(tLabel - t0);
      sliceMs.push(tSlice - t0);
    }
    return { labelMs, sliceMs };
  }

  it('follows 30 settled handovers without extra load (baseline figures)', async () => {
    const { labelMs, sliceMs } = await settledHandovers(30);
    console.log(
      [
        '[labeler] 30 settled handovers, no extra API load',
        `  Lease write → holder the only active pod (test watch), ms: ${JSON.stringify(stats(labelMs))}`,
        `  Lease write → EndpointSlice = [holder IP] (kube-controller-manager), ms: ${JSON.stringify(stats(sliceMs))}`,
      ].join('\n'),
    );
    expect(podWatch.violations).toEqual([]);
  });

  it('hands the Lease over 150 times quickly under API load: never two active pods; label and EndpointSlice follow every settled change', async () => {
    // Load: annotation writes on the gateway pods (each makes the labeler's resourceVersion preconditions stale)
    // and ConfigMap churn in the namespace, from 6 concurrent writers.
    let loadOps = 0;
    let stopLoad = false;
    const cms = new CrClient<AnyObj>(rest, ConfigMapResource, { fieldManager: 'labeler-int-load' });
    const loaders = [
      ...[0, 1, 2].map(async (k) => {
        for (let i = 0; !stopLoad; i++) {
          await pods.patch({ namespace: ns, name: POD_NAMES[(i + k) % 3] as string }, { metadata: { annotations: { 'load.strait.io/tick': `${k}-${i}` } } }).catch(() => undefined);
          loadOps++;
        }
      }),
      ...[0, 1, 2].map(async (k) => {
        for (let i = 0; !stopLoad; i++) {
          const name = `load-${k}-${i % 20}`;
          await cms.apply({ metadata: { name, namespace: ns }, data: { v: String(i) } } as never, { force: true }).catch(() => undefined);
          loadOps++;
        }
      }),
    ];
    const loadStart = performance.now();

    // Phase 1: 120 handovers, 4–12 per second, without waiting for the labeler.
    const order = (i: number) => POD_NAMES[(i * 2 + Math.floor(i / 3)) % 3] as string;
    let holder = podWatch.active()[0] ?? 'gw-0';
    let caughtUp = 0;
    const quick = 120;
    for (let i = 1; i <= quick; i++) {
      const next = order(i) === holder ? (POD_NAMES[(POD_NAMES.indexOf(holder as (typeof POD_NAMES)[number]) + 1) % 3] as string) : order(i);
      holder = next;
      await setHolder(holder);
      const gap = 80 + ((i * 37) % 170);
      const want = holder;
      const tGap = performance.now();
      const seen = await podWatch.until(() => podWatch.onlyActive(want), gap, 'x').then(
        () => true,
        () => false,
      );
      if (seen) caughtUp++;
      await sleep(Math.max(0, gap - (performance.now() - tGap)));
    }
    await podWatch.until(() => podWatch.onlyActive(holder), 10_000, `${holder} the only active pod after the quick handovers`);
    await sliceWatch.until([IP[holder] as string], 10_000);

    // Phase 2: 30 handovers, each waited for (label, then EndpointSlice), still under load.
    const { labelMs, sliceMs } = await settledHandovers(30);
    stopLoad = true;
    await Promise.all(loaders);
    const loadSeconds = (performance.now() - loadStart) / 1000;

    const own = op.labeler.stats;
    const internal = own.latencies.slice(-150).map((s) => s * 1000);
    console.log(
      [
        `[labeler] ${quick} quick handovers (80–250 ms apart) + 30 settled ones under ${(loadOps / loadSeconds).toFixed(0)} API writes/s of load (${loadOps} writes in ${loadSeconds.toFixed(1)} s)`,
        `  pod states observed: ${podWatch.events}; max pods active at once: ${podWatch.maxActive}; violations: ${podWatch.violations.length}`,
        `  quick phase: holder became the only active pod before the next handover in ${caughtUp}/${quick} cases`,
        `  Lease write → holder the only active pod (test watch), ms: ${JSON.stringify(stats(labelMs))}`,
        `  Lease write → EndpointSlice = [holder IP] (kube-controller-manager), ms: ${JSON.stringify(stats(sliceMs))}`,
        `  labeler's own strait_labeler_label_latency_seconds (Lease change seen → active label set), ms: ${JSON.stringify(stats(internal))}`,
        `  labeler: ${own.reconciles} reconciles, ${own.freshLists} fresh lists, ${own.promotions} promotions, ${own.demotions} demotions, ${own.conflicts} resourceVersion conflicts (retried)`,
        `  max EndpointSlice ready addresses at once: ${sliceWatch.maxAddresses}`,
      ].join('\n'),
    );
    expect(podWatch.violations).toEqual([]);
    expect(podWatch.maxActive).toBe(1);
    expect(labelMs).toHaveLength(30);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/^strait_labeler_transitions_total\{to="active"\} [1-9]/m);
    expect(metrics).toMatch(/^strait_labeler_label_latency_seconds_count [1-9]/m);
    expect(metrics).toMatch(/^workqueue_adds_total\{name="labeler"\} [1-9]/m);
    expect(metrics).toMatch(/^leader_election_master_status\{name="strait-labeler"\} 1$/m);
  });

  it('the holder pod deleted and recreated under the same name becomes active again; the EndpointSlice follows', async () => {
    const holder = podWatch.active()[0] as string;
    const i = POD_NAMES.indexOf(holder as (typeof POD_NAMES)[number]);
    const oldUid = podWatch.uids.get(holder);
    await pods.delete({ namespace: ns, name: holder }, { gracePeriodSeconds: 0 });
    await podWatch.until(() => !podWatch.roles.has(holder), 10_000, `${holder} gone`);
    await sliceWatch.until([], 10_000);
    const t0 = performance.now();
    await createReadyPod(holder, i);
    await podWatch.until(() => podWatch.onlyActive(holder) && podWatch.uids.get(holder) !== oldUid, 10_000, `recreated ${holder} active`);
    const tLabel = performance.now() - t0;
    await sliceWatch.until([IP[holder] as string], 10_000);
    console.log(`[labeler] recreated holder pod: active ${tLabel.toFixed(0)} ms after its creation began, EndpointSlice ${(performance.now() - t0).toFixed(0)} ms`);
    expect(podWatch.violations).toEqual([]);
  });

  it('a NATS leader hint makes the labeler re-read the Lease and act without the Lease watch', async () => {
    await stopInProcess(op);
    // A labeler whose gateway-Lease watch delivers nothing after the initial list: only a hint can tell it.
    const real = new CrClient<Lease>(new RestClient(sharedKubeConfig()), LeaseResource);
    const silenced = Object.create(real) as CrClient<Lease>;
    silenced.watch = (opts) => real.watch(opts, () => undefined);
    const labelerBus = await connectTestBus('labeler-int-hinted');
    try {
      const hinted = startInProcess('labeler-hinted', { bus: labelerBus, gatewayLeases: silenced });
      await waitUntil(() => hinted.labeler.reconciling, 10_000, 'hinted labeler leading');
      await labelerBus.flush();
      const before = podWatch.active()[0] as string;
      const next = POD_NAMES.find((n) => n !== before) as string;
      await setHolder(next);
      await sleep(1500);
      expect(podWatch.onlyActive(before)).toBe(true); // the watch told it nothing in 1.5 s
      const t0 = performance.now();
      expect(publishHint(next)).toBe(true);
      await podWatch.until(() => podWatch.onlyActive(next), 5_000, `${next} active after the hint`);
      const hintMs = performance.now() - t0;
      await sliceWatch.until([IP[next] as string], 10_000);
      console.log(
        `[labeler] Lease watch silenced: ${before} still active 1.5 s after the Lease moved to ${next}; NATS hint → ${next} the only active pod in ${hintMs.toFixed(1)} ms (${hinted.labeler.stats.leaseRereads} Lease re-read)`,
      );
      expect(hinted.labeler.stats.leaseRereads).toBeGreaterThanOrEqual(1);
      // A hint naming anyone is only a hint: with the Lease unchanged nothing moves.
      expect(publishHint(before)).toBe(true);
      await sleep(300);
      expect(podWatch.onlyActive(next)).toBe(true);
      await stopInProcess(hinted);
    } finally {
      await labelerBus.close();
    }
    expect(podWatch.violations).toEqual([]);
  });

  it('as a real process: labels, reacts to a hint, writes Events, and releases its own Lease on SIGTERM', async () => {
    const cp = sharedControlPlane();
    const pw = join(tmp, 'nats-password');
    writeFileSync(pw, `${cp.nats.password}\n`, { mode: 0o600 });
    const p = startServiceProcess(new URL('./main.ts', import.meta.url), [
      `--kubeconfig=${cp.kubeconfigPath}`,
      '--probe-addr=127.0.0.1:0',
      `--nats-url=${cp.nats.url}`,
      `--nats-user=${cp.nats.user}`,
      `--nats-password-file=${pw}`,
      `--cluster-id=${clusterId}`,
      `--namespace=${ns}`,
      '--pod-name=labeler-proc',
    ]);
    processes.push(p);
    try {
      const ready = await p.waitForReady(30_000);
      expect(ready).toContain('[+]caches ok');
      await waitUntil(async () => (await leases.get({ namespace: ns, name: 'strait-labeler' }))?.spec?.holderIdentity === 'labeler-proc', 10_000, 'labeler-proc leading');
      const before = podWatch.active()[0] as string;
      const next = POD_NAMES.find((n) => n !== before) as string;
      const t0 = performance.now();
      await setHolder(next);
      publishHint(next);
      await podWatch.until(() => podWatch.onlyActive(next), 10_000, `${next} active (process)`);
      const ms = performance.now() - t0;
      await sliceWatch.until([IP[next] as string], 10_000);
      const metrics = (await p.get('/metrics')).body;
      expect(metrics).toMatch(/^strait_labeler_transitions_total\{to="active"\} [1-9]/m);
      expect(metrics).toMatch(/^strait_bus_messages_received_total\{subject_kind="gateway_leader"\} [1-9]/m);

      const stop = await p.stop('SIGTERM', 10_000);
      expect(stop).toMatchObject({ code: 0, signal: null });
      const own = await leases.get({ namespace: ns, name: 'strait-labeler' });
      expect(own?.spec?.holderIdentity ?? '').toBe('');
      console.log(`[labeler] process: Lease write + hint → ${next} active in ${ms.toFixed(1)} ms; SIGTERM → exit 0 in ${stop.ms.toFixed(0)} ms, strait-labeler released`);

      const events = (await new CrClient<EventsV1Event>(rest, EventResource).list({ namespace: ns })).items.filter((e) => e.reportingController === 'net.strait.io/labeler-operator');
      const reasons = new Set(events.map((e) => e.reason));
      expect(reasons).toEqual(new Set(['Promoted', 'Demoted']));
      expect(events.find((e) => e.reason === 'Promoted' && e.regarding.name === next)?.note).toContain(`${next} holds Lease ${ns}/${GATEWAY_LEASE}`);
    } catch (err) {
      throw new Error(`${String(err)}\n--- process stdout ---\n${p.stdout.slice(-3000)}\n--- stderr ---\n${p.stderr.slice(-2000)}`, { cause: err });
    } finally {
      await p.kill();
    }
    expect(podWatch.violations).toEqual([]);
  });
});

async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
