/**
 * Test and benchmark support: two simulated clusters (each its own kube-apiserver, 2 gateway nodes,
 * 1 worker, 1 pod per node, from @strait/testing's topology), every tunnel-operator a real process
 * inside its gateway node's namespace (`ip netns exec`), reaching its cluster's API server through a
 * TCP → Unix-socket relay (filesystem paths are not per network namespace).
 *
 * A stand-in for route-agent (not built yet) watches each cluster's gateway Lease and points the
 * other nodes' routes to the remote CIDRs at the active gateway node; its reaction time (Lease poll
 * every 20 ms) is part of the measured failover gap.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  RESOURCE_DEFINITIONS,
  TunnelEndpointResource,
  buildCustomResourceDefinition,
  type CustomResourceDefinition,
  type TunnelEndpoint,
} from '@strait/api';
import { CrClient, CustomResourceDefinitionResource, LeaseResource, NamespaceResource, SecretResource, type KubeObject, type Lease } from '@strait/kube';
import { IpNetns, execRunner, generateKeyPair } from '@strait/net';
import { buildTopology, startControlPlane, type ClusterInfo, type ControlPlane, type NodeInfo, type Topology } from '@strait/testing';

export const K8S_NS = 'strait-system';
const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const RELAY = fileURLToPath(new URL('./tcp-unix-relay.ts', import.meta.url));

export class NsProcess {
  readonly child: ChildProcess;
  out = '';
  readonly exited: Promise<number | null>;
  constructor(ns: string, argv: string[]) {
    this.child = spawn('ip', ['netns', 'exec', ns, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root' },
    });
    this.child.stdout?.setEncoding('utf8').on('data', (c: string) => (this.out += c));
    this.child.stderr?.setEncoding('utf8').on('data', (c: string) => (this.out += c));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  async waitFor(re: RegExp, timeoutMs = 60_000): Promise<void> {
    await until(`${re} in output`, () => re.test(this.out) || undefined, timeoutMs).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\n--- output ---\n${this.out.slice(-4000)}`);
    });
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    this.child.kill(signal);
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface LabCluster {
  readonly name: string;
  readonly info: ClusterInfo;
  readonly kc: KubeConfig;
  readonly kubeconfigPath: string;
  readonly apiPort: number;
  readonly teps: CrClient<TunnelEndpoint>;
  readonly leases: CrClient<Lease>;
  readonly keys: { privateKey: string; publicKey: string };
  /** How this cluster's pods appear to the other cluster (its remapped pod CIDR), when remapped. */
  readonly seenAs: string | undefined;
}

export interface LabOptions {
  /** Both clusters use 10.0.0.0/16 and reach each other through remapped CIDRs. */
  readonly samePodCidr?: boolean;
  /** Cable driver of the TunnelEndpoints (default wireguard). */
  readonly backend?: 'wireguard' | 'ipsec' | 'vxlan';
  readonly runId?: string;
  readonly operatorArgs?: readonly string[];
}

const REMAPPED = { a: '10.61.0.0/16', b: '10.62.0.0/16' } as const;

export class GatewayLab {
  topo!: Topology;
  cp: ControlPlane | undefined;
  readonly clusters: LabCluster[] = [];
  readonly operators = new Map<string, NsProcess>();
  readonly #relays: NsProcess[] = [];
  readonly #servers: Server[] = [];
  readonly #o: LabOptions;
  #dir = '';
  #routeAgent: { stop: boolean; loop: Promise<void> } | undefined;
  /** Route-agent stand-in: when each cluster's routes were last re-pointed, and to which node. */
  readonly routeChanges: { cluster: string; holder: string; at: number }[] = [];

  constructor(o: LabOptions = {}) {
    this.#o = o;
  }

  static async start(o: LabOptions = {}): Promise<GatewayLab> {
    const lab = new GatewayLab(o);
    try {
      await lab.#start();
    } catch (e) {
      await lab.stop();
      throw e;
    }
    return lab;
  }

  async #start(): Promise<void> {
    const same = this.#o.samePodCidr ?? false;
    this.topo = await buildTopology({
      ...(this.#o.runId ? { runId: this.#o.runId } : {}),
      clusters: [
        { name: 'a', podCIDR: same ? '10.0.0.0/16' : '10.1.0.0/16' },
        { name: 'b', podCIDR: same ? '10.0.0.0/16' : '10.2.0.0/16' },
      ],
    });
    this.#dir = mkdtempSync(join(tmpdir(), 'strait-tunnel-'));
    this.cp = await startControlPlane({ clusters: [{ name: 'a' }, { name: 'b' }], nats: true });
    const nats = this.cp.nats;
    let natsSock = '';
    if (nats) {
      natsSock = join(this.#dir, 'nats.sock');
      const natsPort = Number(new URL(nats.url).port);
      const server = createServer((c) => {
        const u = connect(natsPort, '127.0.0.1');
        c.pipe(u);
        u.pipe(c);
        c.on('error', () => u.destroy());
        u.on('error', () => c.destroy());
      });
      await new Promise<void>((resolve) => server.listen(natsSock, resolve));
      this.#servers.push(server);
    }
    for (const name of ['a', 'b'] as const) {
      const handle = this.cp.cluster(name);
      const kc = handle.kubeConfig();
      await installCrds(kc);
      await new CrClient<KubeObject>(kc, NamespaceResource).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: K8S_NS } }).catch(() => undefined);
      const keys = generateKeyPair();
      await new CrClient<KubeObject & { data?: Record<string, string> }>(kc, SecretResource).create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'strait-gateway-keys', namespace: K8S_NS },
        data: { 'wireguard-private-key': Buffer.from(keys.privateKey).toString('base64'), 'ipsec-psk': Buffer.from('lab-pre-shared-key-0123456789').toString('base64') },
      });
      const apiPort = Number(new URL(handle.server).port);
      const sock = join(this.#dir, `api-${name}.sock`);
      const server = createServer((c) => {
        const u = connect(apiPort, '127.0.0.1');
        c.pipe(u);
        u.pipe(c);
        c.on('error', () => u.destroy());
        u.on('error', () => c.destroy());
      });
      await new Promise<void>((resolve) => server.listen(sock, resolve));
      this.#servers.push(server);
      const info = this.topo.cluster(name);
      for (const node of info.gateways) {
        const relay = new NsProcess(node.netns, [process.execPath, RELAY, `127.0.0.1:${apiPort}`, sock]);
        this.#relays.push(relay);
        await relay.waitFor(/ready/);
        if (nats) {
          const natsRelay = new NsProcess(node.netns, [process.execPath, RELAY, `127.0.0.1:${new URL(nats.url).port}`, natsSock]);
          this.#relays.push(natsRelay);
          await natsRelay.waitFor(/ready/);
        }
      }
      this.clusters.push({
        name,
        info,
        kc,
        kubeconfigPath: handle.kubeconfigPath,
        apiPort,
        teps: new CrClient<TunnelEndpoint>(kc, TunnelEndpointResource, { fieldManager: 'strait-test' }),
        leases: new CrClient<Lease>(kc, LeaseResource),
        keys,
        seenAs: same ? REMAPPED[name] : undefined,
      });
    }
    // The gateway namespaces are created from the test's mount namespace: `ip netns exec` gives each
    // node process a private (slave) mount namespace, so a namespace the operator created from there
    // would be visible to that process only. On a real node /run/netns is mounted bidirectionally
    // into the gateway pod for the same reason. The operator adopts them.
    const netns = new IpNetns(execRunner());
    for (const c of this.clusters) for (const node of c.info.gateways) await netns.ensure(this.gatewayNetns(node.name));
    for (const c of this.clusters) for (const node of c.info.gateways) this.startOperator(node.name);
    for (const c of this.clusters) for (const node of c.info.gateways) await this.operators.get(node.name)?.waitFor(/"msg":"started"/);
    for (const c of this.clusters) await until(`a leader in cluster ${c.name}`, async () => (await this.holder(c.name)) || undefined, 30_000);
  }

  cluster(name: string): LabCluster {
    const c = this.clusters.find((x) => x.name === name);
    if (!c) throw new Error(`no cluster ${name}`);
    return c;
  }

  other(name: string): LabCluster {
    return this.clusters.find((x) => x.name !== name)!;
  }

  gatewayNetns(node: string): string {
    return `${this.topo.node(node).netns}-sn`;
  }

  startOperator(nodeName: string): NsProcess {
    const node = this.topo.node(nodeName);
    const c = this.cluster(node.cluster);
    const stateDir = join(this.#dir, 'state', node.name);
    mkdirSync(stateDir, { recursive: true });
    const p = new NsProcess(node.netns, [
      process.execPath,
      MAIN,
      `--kubeconfig=${c.kubeconfigPath}`,
      `--cluster-id=${c.name}`,
      `--node-name=${node.name}`,
      `--pod-name=${node.name}`,
      `--netns-name=${this.gatewayNetns(node.name)}`,
      `--namespace=${K8S_NS}`,
      `--pod-cidrs=${c.info.podCIDR}`,
      `--endpoint-ip=${node.wan?.ip ?? node.ip}`,
      `--health-check-ip=${healthIp(c.info.podCIDR)}`,
      `--state-dir=${stateDir}`,
      '--wireguard-implementation=wireguard-go',
      '--probe-addr=127.0.0.1:9101',
      '--status-interval=1s',
      ...(this.#o.backend === 'vxlan' ? ['--forward-udp-ports=51820,500,4500,4789'] : []),
      ...(this.cp?.nats ? [`--nats-url=${this.cp.nats.url}`, `--nats-user=${this.cp.nats.user}`, `--nats-password=${this.cp.nats.password}`] : []),
      ...(this.#o.operatorArgs ?? []),
    ]);
    this.operators.set(node.name, p);
    return p;
  }

  async holder(cluster: string): Promise<string> {
    const lease = await this.cluster(cluster).leases.get({ namespace: K8S_NS, name: 'strait-gateway' });
    return lease?.spec?.holderIdentity ?? '';
  }

  /** The address of `pod` as the other cluster addresses it. */
  addressFromPeer(podCluster: string, podIp: string): string {
    const remapped = this.cluster(podCluster).seenAs;
    if (!remapped) return podIp;
    const [net] = remapped.split('/');
    const n = net!.split('.').map(Number);
    const p = podIp.split('.').map(Number);
    return `${n[0]}.${n[1]}.${p[2]}.${p[3]}`;
  }

  /** The remote CIDR that cluster `from` routes to reach `to`. */
  routedCidr(from: string, to: string): string {
    return this.cluster(to).seenAs ?? this.cluster(to).info.podCIDR;
  }

  tunnelEndpoint(from: string, endpointIp: string): TunnelEndpoint {
    const peer = this.other(from);
    const self = this.cluster(from);
    return {
      apiVersion: 'net.strait.io/v1alpha1',
      kind: 'TunnelEndpoint',
      metadata: { name: peer.name, namespace: K8S_NS, annotations: { 'net.strait.io/health-check-ip': this.addressFromPeer(peer.name, healthIp(peer.info.podCIDR)) } },
      spec: {
        remoteClusterID: peer.name,
        ...(this.#o.backend === 'vxlan'
          ? { endpoint: { address: endpointIp, port: 4789 }, backend: 'vxlan' as const, backendConfig: { vxlan: { vni: 4242, port: 4789 } } }
          : this.#o.backend === 'ipsec'
          ? { endpoint: { address: endpointIp, port: 500 }, backend: 'ipsec' as const, backendConfig: { ipsec: { ikeID: peer.name, port: 500 } } }
          : { endpoint: { address: endpointIp, port: 51820 }, backend: 'wireguard' as const, backendConfig: { wireguard: { publicKey: peer.keys.publicKey, port: 51820 } } }),
        remote: { podCIDRs: [peer.info.podCIDR] },
        ...(peer.seenAs && self.seenAs ? { remap: { remotePodCIDR: peer.seenAs, localPodCIDR: self.seenAs } } : {}),
      },
    };
  }

  /** Each cluster gets a TunnelEndpoint to the other, pointing at the other's current active gateway. */
  async createTunnelEndpoints(): Promise<void> {
    for (const c of this.clusters) {
      const peer = this.other(c.name);
      const holder = await this.holder(peer.name);
      await c.teps.create(this.tunnelEndpoint(c.name, this.topo.node(holder).wan!.ip));
    }
  }

  /** Starts the route-agent stand-in: routes to the remote CIDR on every node except the active gateway. */
  startRouteAgent(): void {
    if (this.#routeAgent) return;
    const state = { stop: false, loop: Promise.resolve() };
    const current = new Map<string, string>();
    state.loop = (async () => {
      while (!state.stop) {
        for (const c of this.clusters) {
          const holder = await this.holder(c.name).catch(() => '');
          if (!holder || current.get(c.name) === holder) continue;
          current.set(c.name, holder);
          await this.pointRoutes(c, this.topo.node(holder));
          this.routeChanges.push({ cluster: c.name, holder, at: Date.now() });
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    this.#routeAgent = state;
  }

  async pointRoutes(c: LabCluster, active: NodeInfo): Promise<void> {
    const dst = this.routedCidr(c.name, this.other(c.name).name);
    await Promise.all(
      c.info.nodes.map(async (n) => {
        if (n.name === active.name) await this.topo.exec(n.netns, 'ip', ['route', 'del', dst]).catch(() => undefined);
        else await this.topo.exec(n.netns, 'ip', ['route', 'replace', dst, 'via', active.ip]);
      }),
    );
  }

  async stopRouteAgent(): Promise<void> {
    if (!this.#routeAgent) return;
    this.#routeAgent.stop = true;
    await this.#routeAgent.loop.catch(() => undefined);
    this.#routeAgent = undefined;
  }

  async stop(): Promise<void> {
    await this.stopRouteAgent().catch(() => undefined);
    await Promise.all([...this.operators.values()].map((p) => p.stop('SIGKILL', 5_000).catch(() => undefined)));
    await Promise.all(this.#relays.map((p) => p.stop('SIGKILL', 5_000).catch(() => undefined)));
    for (const s of this.#servers) s.close();
    await this.cp?.stop().catch(() => undefined);
    await this.topo?.destroy().catch(() => undefined);
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** The gateways' health-check address: the last host of the pod CIDR (a slice no node uses). */
export function healthIp(podCidr: string): string {
  const [a, b] = podCidr.split('/')[0]!.split('.');
  return `${a}.${b}.255.254`;
}

async function installCrds(kc: KubeConfig, timeoutMs = 60_000): Promise<void> {
  const crds = new CrClient<CustomResourceDefinition & KubeObject>(kc, CustomResourceDefinitionResource, { fieldManager: 'strait-test' });
  for (const def of RESOURCE_DEFINITIONS) await crds.apply(buildCustomResourceDefinition(def as never), { force: true });
  const teps = new CrClient(kc, TunnelEndpointResource);
  await until('CRDs served', async () => {
    await teps.list({ namespace: 'default' });
    for (const def of RESOURCE_DEFINITIONS) {
      const c = (await crds.get({ name: `${def.descriptor.plural}.${def.descriptor.group}` })) as { status?: { conditions?: { type: string; status: string }[] } } | undefined;
      if (!c?.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) return undefined;
    }
    return true;
  }, timeoutMs, 200);
}
