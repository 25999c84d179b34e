/**
 * Join benchmark: a cluster re-joining a running lab → the first packet across.
 *
 * Brings up a lab of its own (Broker + 2 member clusters, the default driver) in a temporary directory.
 * Per trial, cluster-2 is made absent from the federation while its control plane, gateways, pods and
 * every other service keep running:
 *
 *   1. cluster-2's broker-sync is held (the lab's control socket: SIGTERM, not restarted until released);
 *   2. with the Broker's admin kubeconfig, cluster-2's Cluster and Endpoint are deleted from the Broker;
 *      the TunnelEndpoints and NatMappings of cluster-2 in cluster-1 and of cluster-1 in cluster-2 (both
 *      made by broker-sync) are deleted (again, until they stay gone: a pass of cluster-1's broker-sync
 *      that read the Broker before the delete may write one back). Nothing else writes any of them: with
 *      cluster-2's Cluster gone from the Broker, cluster-1's broker-sync treats cluster-2 as left;
 *   3. until cluster-1 has no TunnelEndpoint of cluster-2 (and cluster-2 none of cluster-1), nothing of
 *      cluster-2 is on the Broker, a pod of cluster-1 has had no reply from a pod of cluster-2 for 3 s,
 *      and at least --absent-seconds have passed (several of cluster-1's broker-sync passes, 5 s apart);
 *   4. informers watch the Broker and both clusters; cluster-2's broker-sync is released and, from the
 *      moment the lab spawned it, the script records when cluster-2's Endpoint is on the Broker, when the
 *      TunnelEndpoints of both sides exist, when both are Connected, and when the pod of cluster-1 (ping
 *      -D every 10 ms) receives its first echo reply from the pod of cluster-2: the request crossed both
 *      gateways and the reply came back (the headline; resolution 10 ms).
 *
 * What is measured is the re-join of a cluster whose control plane and gateways already run (no
 * installation, no gateway start): broker-sync start → first packet. The lab is always brought down at the
 * end (also on failure or SIGTERM/SIGINT) and the script checks that no process, network namespace or
 * directory of it is left. Root required.
 *
 *   node apps/straitctl/bench/join.bench.ts [--trials=3] [--absent-seconds=15] [--json]
 *
 * Progress on stderr; one JSON line, the last line of stdout.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ClusterResource,
  EndpointResource,
  NatMappingResource,
  ORIGIN_CLUSTER_LABEL,
  REMOTE_CLUSTER_LABEL,
  TunnelEndpointResource,
  type TunnelEndpoint,
} from '@strait/api';
import { CrClient, Informer, isNotFound, type KubeObject, type ResourceDescriptor } from '@strait/kube';
import type { LabState } from '@strait/lab';
import { loadKubeConfig } from '@strait/testing';
import { parsePingReply, type PingReply } from '../src/bench/ping-replies.ts';

// straitctl loads the lab library lazily (its other commands start without it); so does this script.
const { BROKER, BROKER_NAMESPACE, DEFAULT_LAB_OPTIONS, allPids, labControl, labDown, labFiles, labUp, pidAlive, planProbes, readState, viewMembers } = await import('@strait/lab');

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '3' },
    'absent-seconds': { type: 'string', default: '15' },
    json: { type: 'boolean', default: false },
  },
});
const TRIALS = Number(values.trials);
const ABSENT_MS = Number(values['absent-seconds']) * 1000;
if (!Number.isInteger(TRIALS) || TRIALS < 1 || TRIALS > 50) {
  console.error('--trials must be a whole number from 1 to 50');
  process.exit(2);
}
if (!Number.isFinite(ABSENT_MS) || ABSENT_MS < 0) {
  console.error('--absent-seconds must be a number ≥ 0');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('join.bench.ts needs root (the lab builds network namespaces)');
  process.exit(2);
}

const STRAIT_NAMESPACE = 'strait-system';
const JOINING = 'cluster-2';
const PEER = 'cluster-1';
const BROKER_SYNC = { cluster: JOINING, service: 'broker-sync' } as const;
const PING_INTERVAL_MS = 10;
/** Without a reply for this long, the path is down. */
const QUIET_MS = 3_000;
const STEP_TIMEOUT_MS = 180_000;

const progress = (msg: string): void => void process.stderr.write(`join: ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Echo requests every 10 ms from a network namespace, each reply with the time ping received it. */
class TimedPing {
  readonly replies: PingReply[] = [];
  readonly #child: ChildProcess;
  #buffered = '';
  #exited = false;
  constructor(netns: string, address: string) {
    this.#child = spawn('ip', ['netns', 'exec', netns, 'ping', '-D', '-n', '-i', String(PING_INTERVAL_MS / 1000), '-W', '1', address], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.#child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (this.#buffered + chunk).split('\n');
      this.#buffered = lines.pop() ?? '';
      for (const line of lines) {
        const r = parsePingReply(line);
        if (r) this.replies.push(r);
      }
    });
    this.#child.once('exit', () => (this.#exited = true));
  }
  get exited(): boolean {
    return this.#exited;
  }
  lastReplyAtMs(): number | undefined {
    return this.replies.at(-1)?.atMs;
  }
  firstReplyAfter(ms: number): PingReply | undefined {
    return this.replies.find((r) => r.atMs >= ms);
  }
  async stop(): Promise<void> {
    if (this.#exited) return;
    const done = new Promise((r) => this.#child.once('exit', r));
    this.#child.kill('SIGINT');
    const t = setTimeout(() => this.#child.kill('SIGKILL'), 3_000);
    await done;
    clearTimeout(t);
  }
}

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = STEP_TIMEOUT_MS, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs / 1000} s`);
    await sleep(intervalMs);
  }
}

interface Trial {
  brokerSyncReadyMs: number;
  brokerClusterMs: number;
  brokerEndpointMs: number;
  /** cluster-1's TunnelEndpoint of cluster-2 and cluster-2's of cluster-1. */
  tunnelEndpointPeerMs: number;
  tunnelEndpointJoiningMs: number;
  tunnelEndpointsMs: number;
  connectedPeerMs: number;
  connectedJoiningMs: number;
  connectedMs: number;
  firstPacketMs: number;
  /** The release request sent → the lab spawned broker-sync. */
  releaseRequestMs: number;
  /** Removal started → release (how long cluster-2 was absent). */
  absentMs: number;
  /** Hold and removal: → everything of cluster-2 gone, and → the path down. */
  removedMs: number;
  pathDownMs: number;
}

const files = labFiles(join(mkdtempSync(join(tmpdir(), 'strait-bench-join-')), 'lab'));
const dir = files.dir;
const labIo = { stdout: process.stderr, stderr: process.stderr };
const control = labControl(dir);
const current = (): LabState => {
  const s = readState(files.state);
  if (!s) throw new Error(`no lab state in ${dir}`);
  return s;
};
const kubeconfigOf = (st: LabState, cluster: string) => loadKubeConfig(st.clusters.find((c) => c.name === cluster)!.kubeconfig);

/** Every object of `descriptor` in `namespace` with the label; deleted (NotFound is fine); returns how many there were. */
async function deleteLabelled(client: CrClient<KubeObject>, namespace: string, labelSelector: string): Promise<number> {
  const items = (await client.list({ namespace, labelSelector })).items;
  for (const o of items) {
    try {
      await client.delete({ namespace, name: o.metadata?.name ?? '' });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  return items.length;
}

async function trial(n: number): Promise<Trial> {
  const st = current();
  const brokerKc = kubeconfigOf(st, BROKER);
  const peerKc = kubeconfigOf(st, PEER);
  const joiningKc = kubeconfigOf(st, JOINING);
  const client = (kc: ReturnType<typeof loadKubeConfig>, d: ResourceDescriptor) => new CrClient<KubeObject>(kc, d);
  const brokerSel = `${ORIGIN_CLUSTER_LABEL}=${JOINING}`;
  const peerSel = `${REMOTE_CLUSTER_LABEL}=${JOINING}`;
  const joiningSel = `${REMOTE_CLUSTER_LABEL}=${PEER}`;
  // What makes cluster-2 known: its objects on the Broker, the peer's objects of it, and its own of the peer.
  const traces: Array<[string, CrClient<KubeObject>, string, string]> = [
    ['Broker Cluster', client(brokerKc, ClusterResource), BROKER_NAMESPACE, brokerSel],
    ['Broker Endpoint', client(brokerKc, EndpointResource), BROKER_NAMESPACE, brokerSel],
    [`${PEER} TunnelEndpoint`, client(peerKc, TunnelEndpointResource), STRAIT_NAMESPACE, peerSel],
    [`${PEER} NatMapping`, client(peerKc, NatMappingResource), STRAIT_NAMESPACE, peerSel],
    [`${JOINING} TunnelEndpoint`, client(joiningKc, TunnelEndpointResource), STRAIT_NAMESPACE, joiningSel],
    [`${JOINING} NatMapping`, client(joiningKc, NatMappingResource), STRAIT_NAMESPACE, joiningSel],
  ];

  const probe = planProbes(st, await viewMembers(st)).find((p) => p.from === PEER && p.to === JOINING);
  if (!probe?.address) throw new Error(`${PEER} has no address for a pod of ${JOINING} (no TunnelEndpoint?)`);
  const ping = new TimedPing(probe.source.netns, probe.address);
  const informers: Array<Informer<KubeObject>> = [];
  try {
    await until(
      `trial ${n}: replies from ${probe.target.name} before the hold`,
      async () => {
        if (ping.exited) throw new Error(`ping from ${probe.source.name} to ${probe.address} exited`);
        return ping.replies.length >= 5;
      },
      60_000,
      100,
    );

    // 1–2. Hold, remove.
    const held = await control.holdService(BROKER_SYNC);
    const tRemove = Date.now();
    progress(`trial ${n}: ${held.name} held (pid ${held.pid} exited in ${held.exitedMs} ms); removing ${JOINING} from the Broker and both clusters`);
    let removedMs: number | undefined;
    let pathDownMs: number | undefined;
    await until(
      `trial ${n}: ${JOINING} absent (no trace, path down for ${QUIET_MS / 1000} s, ${ABSENT_MS / 1000} s at least)`,
      async () => {
        let left = 0;
        for (const [, c, ns, sel] of traces) left += await deleteLabelled(c, ns, sel);
        const now = Date.now();
        if (left > 0) {
          removedMs = undefined;
          return false;
        }
        removedMs ??= now - tRemove;
        const last = ping.lastReplyAtMs() ?? 0;
        const quiet = now - Math.max(last, tRemove) >= QUIET_MS;
        if (quiet) pathDownMs ??= Math.round(Math.max(last, tRemove) - tRemove);
        return quiet && now - tRemove >= ABSENT_MS;
      },
      STEP_TIMEOUT_MS,
      500,
    );
    progress(`trial ${n}: ${JOINING} gone from the Broker and ${PEER} ${removedMs} ms after the hold, last reply ${pathDownMs} ms after it; releasing broker-sync`);

    // 4. Watch, release, measure.
    const stamps = new Map<string, number>();
    const stamp = (key: string) => {
      if (!stamps.has(key)) stamps.set(key, Date.now());
    };
    const watch = (kc: ReturnType<typeof loadKubeConfig>, d: ResourceDescriptor, ns: string, sel: string, key: string, connectedKey?: string) => {
      const inf = new Informer<KubeObject>({ client: client(kc, d), namespace: ns, labelSelector: sel, name: key });
      const seen = (o: KubeObject) => {
        stamp(key);
        if (connectedKey && (o as TunnelEndpoint).status?.phase === 'Connected') stamp(connectedKey);
      };
      inf.addEventHandler({ onAdd: seen, onUpdate: (_old, o) => seen(o) });
      informers.push(inf);
      inf.start();
      return inf;
    };
    watch(brokerKc, ClusterResource, BROKER_NAMESPACE, brokerSel, 'brokerCluster');
    watch(brokerKc, EndpointResource, BROKER_NAMESPACE, brokerSel, 'brokerEndpoint');
    watch(peerKc, TunnelEndpointResource, STRAIT_NAMESPACE, peerSel, 'tepPeer', 'connectedPeer');
    watch(joiningKc, TunnelEndpointResource, STRAIT_NAMESPACE, joiningSel, 'tepJoining', 'connectedJoining');
    await Promise.all(informers.map((i) => i.waitForSync({ timeoutMs: 60_000 })));
    if (stamps.size > 0) throw new Error(`trial ${n}: ${[...stamps.keys()].join(', ')} came back while broker-sync was held`);
    const absentMs = Date.now() - tRemove;

    const tRequest = Date.now();
    const released = await control.releaseService(BROKER_SYNC);
    const t0 = released.startedAtMs;
    const keys = ['brokerCluster', 'brokerEndpoint', 'tepPeer', 'tepJoining', 'connectedPeer', 'connectedJoining'];
    const first = await until(
      `trial ${n}: after the release, ${keys.join(', ')} and a reply`,
      async () => (keys.every((k) => stamps.has(k)) ? ping.firstReplyAfter(t0) : undefined),
      STEP_TIMEOUT_MS,
      50,
    ).catch((e: Error) => {
      throw new Error(`${e.message} (seen: ${[...stamps.keys()].join(', ') || 'nothing'}; replies after the release: ${ping.firstReplyAfter(t0) ? 'yes' : 'none'})`);
    });
    const at = (k: string) => stamps.get(k)! - t0;
    const t: Trial = {
      brokerSyncReadyMs: released.readyMs,
      brokerClusterMs: at('brokerCluster'),
      brokerEndpointMs: at('brokerEndpoint'),
      tunnelEndpointPeerMs: at('tepPeer'),
      tunnelEndpointJoiningMs: at('tepJoining'),
      tunnelEndpointsMs: Math.max(at('tepPeer'), at('tepJoining')),
      connectedPeerMs: at('connectedPeer'),
      connectedJoiningMs: at('connectedJoining'),
      connectedMs: Math.max(at('connectedPeer'), at('connectedJoining')),
      firstPacketMs: Math.round(first.atMs - t0),
      releaseRequestMs: t0 - tRequest,
      absentMs,
      removedMs: removedMs ?? 0,
      pathDownMs: pathDownMs ?? 0,
    };
    progress(
      `trial ${n}: broker-sync ready ${t.brokerSyncReadyMs} ms; Endpoint on the Broker ${t.brokerEndpointMs} ms; TunnelEndpoints ${PEER} ${t.tunnelEndpointPeerMs} ms, ${JOINING} ${t.tunnelEndpointJoiningMs} ms; Connected ${PEER} ${t.connectedPeerMs} ms, ${JOINING} ${t.connectedJoiningMs} ms; first reply ${t.firstPacketMs} ms (seq ${first.seq})`,
    );
    return t;
  } finally {
    await ping.stop();
    await Promise.all(informers.map((i) => i.stop()));
  }
}

function labNetns(prefix: string): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => prefix !== '' && n.startsWith(prefix));
}

/** Brings the lab down (once) and says what is left of it: processes, namespaces, directories. */
let downing: Promise<{ downMs: number; left: string[] }> | undefined;
function down(pids: Set<number>, prefix: () => string): Promise<{ downMs: number; left: string[] }> {
  downing ??= (async () => {
    const st = readState(files.state);
    if (st) for (const p of allPids(st)) pids.add(p);
    const t = performance.now();
    progress('lab down');
    try {
      await labDown(dir, labIo);
    } catch (e) {
      progress(`lab down failed: ${(e as Error).message}`);
    }
    const downMs = Math.round(performance.now() - t);
    await sleep(500);
    const left = [
      ...[...pids].filter(pidAlive).map((p) => `process ${p}`),
      ...labNetns(prefix()).map((n) => `network namespace ${n}`),
      ...(existsSync(dir) ? [`directory ${dir}`] : []),
      ...(st?.controlPlaneDir && existsSync(st.controlPlaneDir) ? [`directory ${st.controlPlaneDir}`] : []),
    ];
    rmSync(join(dir, '..'), { recursive: true, force: true });
    return { downMs, left };
  })();
  return downing;
}

async function main(): Promise<number> {
  const pids = new Set<number>();
  let prefix = '';
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      progress(`${sig}: bringing the lab down`);
      void down(pids, () => prefix).then(() => process.exit(130));
    });
  }
  const load = loadavg()[0]!;
  const trials: Trial[] = [];
  let upMs = 0;
  let failure: unknown;
  try {
    const t = performance.now();
    progress(`lab up in ${dir} (Broker + 2 clusters, default driver)`);
    const code = await labUp(dir, { ...DEFAULT_LAB_OPTIONS, clusters: 2 }, labIo);
    const st = readState(files.state);
    prefix = st?.netnsPrefix ?? '';
    if (st) for (const p of allPids(st)) pids.add(p);
    if (code !== 0) throw new Error('lab up failed (its messages are above)');
    upMs = Math.round(performance.now() - t);
    progress(`lab ready in ${(upMs / 1000).toFixed(1)} s`);
    for (let i = 1; i <= TRIALS; i++) {
      trials.push(await trial(i));
      for (const p of allPids(current())) pids.add(p);
    }
  } catch (e) {
    failure = e;
  }
  const { downMs, left } = await down(pids, () => prefix);
  progress(`lab down in ${(downMs / 1000).toFixed(1)} s; left behind: ${left.length === 0 ? 'nothing' : left.join(', ')}`);
  if (failure) {
    console.error(`join: failed: ${failure instanceof Error ? failure.message : String(failure)}`);
    return 1;
  }
  if (left.length > 0) {
    console.error(`join: the lab left ${left.join(', ')}`);
    return 1;
  }
  const notes = [
    `Measured: the re-join of a cluster whose control plane and gateways already run (no installation, no gateway start): from the moment the lab spawned cluster-2's broker-sync (released after being held ≥ ${ABSENT_MS / 1000} s, with its Cluster and Endpoint deleted from the Broker and the TunnelEndpoints and NatMappings between cluster-1 and cluster-2 deleted on both sides, the path down ≥ ${QUIET_MS / 1000} s) to each stage, seen through watches.`,
    `First packet: the receive time (ping -D) of the first echo reply a pod of cluster-1 (on a worker node) got from a pod of cluster-2 (on a worker node), pinging every ${PING_INTERVAL_MS} ms: the request crossed both gateways and the reply came back.`,
    'Connected is the TunnelEndpoint status the tunnel-operator writes (every 1 s in the lab, --status-interval=1s): the first packet may cross before it says so.',
    `broker-sync ready: spawn → /readyz (polled every ≤ 250 ms; Node's start and module loading included); it runs with --heartbeat-interval=5s in the lab. Lab up ${(upMs / 1000).toFixed(1)} s, down ${(downMs / 1000).toFixed(1)} s, nothing left behind; load average ${load.toFixed(2)} at the start.`,
  ];
  const result = { trials, notes, pingIntervalMs: PING_INTERVAL_MS, absentSeconds: ABSENT_MS / 1000, loadavg1: load, labUpMs: upMs, labDownMs: downMs };
  if (!values.json) for (const [i, t] of trials.entries()) console.log(`trial ${i + 1}: first packet ${t.firstPacketMs} ms after broker-sync's start (Endpoint on the Broker ${t.brokerEndpointMs} ms, TunnelEndpoints ${t.tunnelEndpointsMs} ms, Connected ${t.connectedMs} ms)`);
  console.log(JSON.stringify(result));
  return 0;
}

// Exit explicitly: nothing of the lab is left to wait for (stdout to a pipe is written synchronously).
process.exit(await main());
