/**
 * Peers benchmark: one gateway given many peers at once, and what every service costs in memory.
 *
 * The lab of the failover benchmark (two clusters, each its own kube-apiserver; tunnel-operator on every
 * gateway node and route-agent on every node, each a real process in its node's network namespace).
 * No TunnelEndpoint between the two clusters: cluster a's active gateway is given N WireGuard
 * TunnelEndpoints at once (peers that do not exist: endpoints in 198.18.0.0/15, generated public keys, a
 * pod CIDR each in 10.64.0.0/10). Measured from just before the first create:
 *
 *   statuses   every TunnelEndpoint has status.observedGeneration == metadata.generation and a phase
 *   device     the active gateway's WireGuard device (wireguard-go, read over its UAPI socket) holds N peers
 *   all        the later of the two
 *
 * Then natmapping-operator, labeler-operator and broker-sync are started against cluster a as in their
 * process tests (kubeconfig, NATS with a password file, probes on loopback) and, once ready and settled,
 * VmRSS (/proc/PID/status) of every service process is read: the active tunnel-operator holding N peers,
 * the standby, route-agent on the active gateway node and on the worker, and the three others.
 * Goal (DESIGN.md): N = 100 reconciled in ≤ 5 s. Root required; everything it builds is removed.
 *
 *   npx node apps/tunnel-operator/bench/peers.bench.ts [--peers=100] [--settle-seconds=5] [--json]
 *
 * Prints a summary, then one JSON line, the last line of stdout (with or without --json).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { TunnelEndpoint } from '@strait/api';
import { IpNetns, UapiClient, execRunner, generateKeyPair } from '@strait/net';
import { startServiceProcess, type ServiceProcess } from '@strait/runtime/testing';
import { GatewayLab, K8S_NS, until } from '../src/testing/gateway-lab.ts';

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '100' },
    'settle-seconds': { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const N = Number(values.peers);
const SETTLE_MS = Number(values['settle-seconds']) * 1000;
if (!Number.isInteger(N) || N < 1 || N > 4000) {
  console.error('--peers must be a whole number from 1 to 4000');
  process.exit(2);
}
if (!Number.isFinite(SETTLE_MS) || SETTLE_MS < 0) {
  console.error('--settle-seconds must be a number ≥ 0');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('peers.bench.ts needs root (network namespaces)');
  process.exit(2);
}

/** Entry points of the other services, run as processes (apps never import each other). */
const MAINS = {
  'natmapping-operator': fileURLToPath(new URL('../../natmapping-operator/src/main.ts', import.meta.url)),
  'labeler-operator': fileURLToPath(new URL('../../labeler-operator/src/main.ts', import.meta.url)),
  'broker-sync': fileURLToPath(new URL('../../broker-sync/src/main.ts', import.meta.url)),
} as const;

const progress = (msg: string): void => void process.stderr.write(`peers: ${msg}\n`);

function peerObject(i: number): TunnelEndpoint {
  const id = `bench-peer-${String(i).padStart(4, '0')}`;
  return {
    apiVersion: 'net.strait.io/v1alpha1',
    kind: 'TunnelEndpoint',
    metadata: { name: id, namespace: K8S_NS },
    spec: {
      remoteClusterID: id,
      backend: 'wireguard',
      endpoint: { address: `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`, port: 51820 },
      backendConfig: { wireguard: { publicKey: generateKeyPair().publicKey, port: 51820 } },
      remote: { podCIDRs: [`10.${64 + (i >> 8)}.${i & 255}.0/24`] },
    },
  } as TunnelEndpoint;
}

/** VmRSS of a process in MiB (the node process itself: `ip netns exec` execs it in place). */
function rssMiB(pid: number | undefined, what: string): number {
  if (pid === undefined) throw new Error(`${what}: no process`);
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  if (!cmdline.includes('main.ts')) throw new Error(`${what}: process ${pid} is not a service (${cmdline.replace(/\0/g, ' ').slice(0, 120)})`);
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`${what}: no VmRSS in /proc/${pid}/status`);
  return Math.round((Number(m[1]) / 1024) * 10) / 10;
}

const lab = await GatewayLab.start({ realRouteAgent: true });
const services: ServiceProcess[] = [];
const netnsName = `st-${randomBytes(3).toString('hex')}-peers-nat`;
const dir = mkdtempSync(join(tmpdir(), 'strait-peers-bench-'));
let result: Record<string, unknown>;
try {
  const a = lab.cluster('a');
  const holder = await lab.holder('a');
  const standby = a.info.gateways.find((n) => n.name !== holder)!.name;
  const worker = a.info.workers[0]!.name;
  const op = lab.operators.get(holder)!;
  const stateDir = op.child.spawnargs.find((x) => x.startsWith('--state-dir='))!.slice('--state-dir='.length);
  const wg = new UapiClient('strait-wg0', { socketDir: join(stateDir, 'wireguard') });
  const peers = Array.from({ length: N }, (_, i) => peerObject(i));
  const keys = new Set(peers.map((p) => p.spec.backendConfig.wireguard!.publicKey));
  progress(`lab up; active gateway of cluster a: ${holder}; creating ${N} TunnelEndpoints`);

  const t0 = performance.now();
  let createMs = 0;
  let statusesMs: number | undefined;
  let devicePeersMs: number | undefined;
  let firstOnDeviceMs: number | undefined;
  let halfOnDeviceMs: number | undefined;
  const creating = (async () => {
    // A few creates in flight at once, as a controller applying many objects would.
    const queue = [...peers];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let p = queue.shift(); p; p = queue.shift()) await a.teps.create(p);
      }),
    );
    createMs = Math.round(performance.now() - t0);
  })();
  let lastCounts = '';
  await until(
    `${N} peers reconciled`,
    async () => {
      if (statusesMs === undefined) {
        const items = (await a.teps.list({ namespace: K8S_NS })).items.filter((t) => t.metadata.name?.startsWith('bench-peer-'));
        const current = items.filter((t) => t.status?.phase && t.status.observedGeneration === t.metadata.generation).length;
        if (current === N) statusesMs = Math.round(performance.now() - t0);
        lastCounts = `statuses ${current}/${N}`;
      }
      if (devicePeersMs === undefined) {
        const onDevice = (await wg.get().catch(() => ({ peers: [] }))).peers.filter((p) => keys.has(p.publicKey)).length;
        const now = Math.round(performance.now() - t0);
        if (onDevice >= 1) firstOnDeviceMs ??= now;
        if (onDevice >= N / 2) halfOnDeviceMs ??= now;
        if (onDevice === N) devicePeersMs = now;
        lastCounts += `, device ${onDevice}/${N}`;
      }
      return statusesMs !== undefined && devicePeersMs !== undefined ? true : undefined;
    },
    180_000,
    50,
  ).catch((e: unknown) => {
    throw new Error(`${(e as Error).message} (${lastCounts})`);
  });
  await creating;
  const allReconciledMs = Math.max(statusesMs!, devicePeersMs!);
  const phases: Record<string, number> = {};
  for (const t of (await a.teps.list({ namespace: K8S_NS })).items) phases[t.status?.phase ?? 'none'] = (phases[t.status?.phase ?? 'none'] ?? 0) + 1;
  progress(`created in ${createMs} ms; statuses current at ${statusesMs} ms, ${N} peers on the device at ${devicePeersMs} ms (phases ${JSON.stringify(phases)})`);

  // The other services, against cluster a, as their process tests start them.
  const nats = lab.cp!.nats!;
  const passwordFile = join(dir, 'nats-password');
  writeFileSync(passwordFile, `${nats.password}\n`, { mode: 0o600 });
  const common = [`--kubeconfig=${a.kubeconfigPath}`, '--probe-addr=127.0.0.1:0', `--nats-url=${nats.url}`, `--nats-user=${nats.user}`, `--nats-password-file=${passwordFile}`, '--cluster-id=a'];
  const extra: Record<keyof typeof MAINS, string[]> = {
    'natmapping-operator': [`--node-name=${holder}`, `--netns-name=${netnsName}`, `--namespace=${K8S_NS}`],
    'labeler-operator': [`--namespace=${K8S_NS}`],
    'broker-sync': [`--broker-kubeconfig=${lab.cluster('b').kubeconfigPath}`],
  };
  // broker-sync writes this cluster's Cluster object into the Broker's namespace (cluster b stands in for the Broker).
  await lab.cluster('b').objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'strait-broker' } }).catch(() => undefined);
  const started = new Map<string, ServiceProcess>();
  for (const [name, main] of Object.entries(MAINS) as [keyof typeof MAINS, string][]) {
    const p = startServiceProcess(main, [...common, ...extra[name]]);
    services.push(p);
    started.set(name, p);
  }
  for (const [name, p] of started) {
    await p.waitForReady(60_000).catch((e: unknown) => {
      throw new Error(`${name} did not become ready: ${String(e)}\n${p.stdout.slice(-2000)}${p.stderr.slice(-2000)}`);
    });
  }
  progress(`natmapping-operator, labeler-operator and broker-sync ready; settling ${SETTLE_MS / 1000} s before reading VmRSS`);
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const rss: Record<string, number> = {
    [`tunnel-operator (active, ${N} peers)`]: rssMiB(op.child.pid, 'tunnel-operator'),
    'tunnel-operator (standby)': rssMiB(lab.operators.get(standby)!.child.pid, 'tunnel-operator standby'),
    'route-agent (gateway node)': rssMiB(lab.routeAgents.get(holder)?.child.pid, 'route-agent'),
    'route-agent (worker node)': rssMiB(lab.routeAgents.get(worker)?.child.pid, 'route-agent'),
  };
  for (const [name, p] of started) rss[name] = rssMiB(p.child.pid, name);

  result = {
    bench: 'peers',
    peers: N,
    createMs,
    statusesMs,
    devicePeersMs,
    firstOnDeviceMs,
    halfOnDeviceMs,
    allReconciledMs,
    goalMs: 5000,
    phases,
    rssMiB: rss,
    notes: [
      `On the device: the first peer after ${firstOnDeviceMs} ms, half of them after ${halfOnDeviceMs} ms, all after ${devicePeersMs} ms (polled every 50 ms).`,
      `${N} TunnelEndpoints created 8 at a time (all created after ${createMs} ms); phases afterwards: ${Object.entries(phases).map(([k, v]) => `${k} ${v}`).join(', ')} (the peers do not exist, so they never connect).`,
      `VmRSS read ${SETTLE_MS / 1000} s after natmapping-operator, labeler-operator and broker-sync were ready; every process is Node ${process.version} running TypeScript sources directly (type stripping).`,
    ],
  };
} finally {
  await Promise.all(services.map((p) => p.kill().catch(() => undefined)));
  await lab.stop();
  await new IpNetns(execRunner()).delete(netnsName).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

const r = result;
const rss = r['rssMiB'] as Record<string, number>;
const width = Math.max(...Object.keys(rss).map((k) => k.length));
console.log(`${N} peers given at once to one gateway: all reconciled in ${String(r['allReconciledMs'])} ms (goal ≤ 5000 ms: ${(r['allReconciledMs'] as number) <= 5000 ? 'met' : 'MISSED'})`);
console.log(`  statuses current ${String(r['statusesMs'])} ms, ${N} peers on the WireGuard device ${String(r['devicePeersMs'])} ms, all created ${String(r['createMs'])} ms`);
console.log('VmRSS of the service processes:');
for (const [k, v] of Object.entries(rss)) console.log(`  ${k.padEnd(width)}  ${v.toFixed(1)} MiB`);
console.log(JSON.stringify(r));
