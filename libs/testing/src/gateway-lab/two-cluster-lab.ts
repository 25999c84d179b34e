/**
 * Two simulated clusters for end-to-end tests and benchmarks of the gateway datapath: each cluster
 * its own kube-apiserver (plus one NATS), 2 gateway nodes, 1 worker and 1 pod per node (from the
 * topology), every tunnel-operator a real process inside its gateway node's namespace and — with
 * `routeAgents` — a real route-agent process on every node. Node processes reach the API server and
 * NATS through TCP → Unix-socket relays (filesystem paths are not per network namespace).
 *
 * Kubernetes objects are written with @kubernetes/client-node directly (this package depends on no
 * Strait library but @strait/net); the CRDs come from libs/api's generated YAML. Without
 * `routeAgentMain`, a stand-in (`startStandInRouteAgent`) polls the gateway Lease and points the other nodes'
 * routes at the active gateway node.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig, KubernetesObjectApi, loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import { IpNetns, execRunner, generateKeyPair } from '@strait/net';
import { startControlPlane } from '../control-plane.ts';
import { buildTopology } from '../topology/build.ts';
import type { Topology } from '../topology/topology.ts';
import type { ClusterInfo, NodeInfo } from '../topology/types.ts';
import type { ControlPlane } from '../types.ts';
import { NsProcess, until } from './ns-process.ts';

export const LAB_K8S_NS = 'strait-system';
/** Script of the TCP → Unix-socket relay a process inside a node namespace reaches a host server through. */
export const TCP_UNIX_RELAY_SCRIPT = fileURLToPath(new URL('./tcp-unix-relay.ts', import.meta.url));
const RELAY = TCP_UNIX_RELAY_SCRIPT;
const CRDS = fileURLToPath(new URL('../../../api/crds/all.yaml', import.meta.url));
const REMAPPED = { a: '10.61.0.0/16', b: '10.62.0.0/16' } as const;
/** Probe ports inside the node namespaces. */
export const OPERATOR_PROBE_PORT = 9101;
export const ROUTE_AGENT_PROBE_PORT = 9104;

export interface LabClusterBase {
  readonly name: string;
  readonly info: ClusterInfo;
  readonly kc: KubeConfig;
  readonly kubeconfigPath: string;
  readonly apiPort: number;
  readonly objects: KubernetesObjectApi;
  readonly keys: { privateKey: string; publicKey: string };
  /** How this cluster's pods appear to the other cluster (its remapped pod CIDR), when remapped. */
  readonly seenAs: string | undefined;
}

export interface TwoClusterLabOptions<C extends LabClusterBase> {
  /** tunnel-operator's main.ts (started in every gateway node). */
  readonly operatorMain: string;
  /** route-agent's main.ts: when set, a route-agent runs on every node (and Node objects exist). */
  readonly routeAgentMain?: string;
  /** Both clusters use 10.0.0.0/16 and reach each other through remapped CIDRs. */
  readonly samePodCidr?: boolean;
  /** Cable driver of the TunnelEndpoints (default wireguard). */
  readonly backend?: 'wireguard' | 'ipsec' | 'vxlan';
  readonly runId?: string;
  readonly operatorArgs?: readonly string[];
  readonly routeAgentArgs?: readonly string[];
  /** Adds typed clients etc. to each cluster. */
  readonly decorate?: (c: LabClusterBase) => C;
}

export class TwoClusterLab<C extends LabClusterBase = LabClusterBase> {
  topo!: Topology;
  cp: ControlPlane | undefined;
  readonly clusters: C[] = [];
  readonly operators = new Map<string, NsProcess>();
  readonly routeAgents = new Map<string, NsProcess>();
  readonly #relays: NsProcess[] = [];
  readonly #servers: Server[] = [];
  readonly #o: TwoClusterLabOptions<C>;
  #dir = '';
  #standIn: { stop: boolean; loop: Promise<void> } | undefined;
  /** Route-agent stand-in: when each cluster's routes were last re-pointed, and to which node. */
  readonly routeChanges: { cluster: string; holder: string; at: number }[] = [];

  /** Call init() next (or use a subclass's start()). */
  constructor(o: TwoClusterLabOptions<C>) {
    this.#o = o;
  }

  /** Builds everything; on failure removes what was built and throws. */
  async init(): Promise<void> {
    try {
      await this.#start();
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  get options(): TwoClusterLabOptions<C> {
    return this.#o;
  }

  async #start(): Promise<void> {
    const same = this.#o.samePodCidr ?? false;
    const withAgents = this.#o.routeAgentMain !== undefined;
    this.topo = await buildTopology({
      ...(this.#o.runId ? { runId: this.#o.runId } : {}),
      clusters: [
        { name: 'a', podCIDR: same ? '10.0.0.0/16' : '10.1.0.0/16' },
        { name: 'b', podCIDR: same ? '10.0.0.0/16' : '10.2.0.0/16' },
      ],
    });
    this.#dir = mkdtempSync(join(tmpdir(), 'strait-lab2-'));
    this.cp = await startControlPlane({ clusters: [{ name: 'a' }, { name: 'b' }], nats: true });
    const nats = this.cp.nats;
    let natsSock = '';
    if (nats) {
      natsSock = join(this.#dir, 'nats.sock');
      await this.#unixRelay(natsSock, Number(new URL(nats.url).port));
    }
    const crds = loadAllYaml(readFileSync(CRDS, 'utf8')) as KubernetesObject[];
    for (const name of ['a', 'b'] as const) {
      const handle = this.cp.cluster(name);
      const kc = handle.kubeConfig();
      const objects = KubernetesObjectApi.makeApiClient(kc);
      await installCrds(objects, crds);
      await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: LAB_K8S_NS } }).catch(() => undefined);
      const keys = generateKeyPair();
      await objects.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'strait-gateway-keys', namespace: LAB_K8S_NS },
        data: { 'wireguard-private-key': Buffer.from(keys.privateKey).toString('base64'), 'ipsec-psk': Buffer.from('lab-pre-shared-key-0123456789').toString('base64') },
      } as KubernetesObject);
      const apiPort = Number(new URL(handle.server).port);
      const sock = join(this.#dir, `api-${name}.sock`);
      await this.#unixRelay(sock, apiPort);
      const info = this.topo.cluster(name);
      if (withAgents) for (const n of info.nodes) await createNode(objects, n);
      for (const node of withAgents ? info.nodes : info.gateways) {
        const relay = new NsProcess(node.netns, [process.execPath, RELAY, `127.0.0.1:${apiPort}`, sock]);
        this.#relays.push(relay);
        await relay.waitFor(/ready/);
        if (nats) {
          const natsRelay = new NsProcess(node.netns, [process.execPath, RELAY, `127.0.0.1:${new URL(nats.url).port}`, natsSock]);
          this.#relays.push(natsRelay);
          await natsRelay.waitFor(/ready/);
        }
      }
      const base: LabClusterBase = { name, info, kc, kubeconfigPath: handle.kubeconfigPath, apiPort, objects, keys, seenAs: same ? REMAPPED[name] : undefined };
      this.clusters.push(this.#o.decorate ? this.#o.decorate(base) : (base as C));
    }
    // The gateway namespaces are created from the test's mount namespace: `ip netns exec` gives each
    // node process a private (slave) mount namespace, so a namespace the operator created from there
    // would be visible to that process only. On a real node /run/netns is mounted bidirectionally
    // into the gateway pod for the same reason. The operator adopts them.
    const netns = new IpNetns(execRunner());
    for (const c of this.clusters) for (const node of c.info.gateways) await netns.ensure(this.gatewayNetns(node.name));
    for (const c of this.clusters) for (const node of c.info.gateways) this.startOperator(node.name);
    for (const c of this.clusters) for (const node of c.info.gateways) await this.operators.get(node.name)?.waitFor(/"msg":"started"/, 180_000);
    for (const c of this.clusters) await until(`a leader in cluster ${c.name}`, async () => (await this.holder(c.name)) || undefined, 30_000);
    if (withAgents) {
      for (const c of this.clusters) for (const node of c.info.nodes) this.startRouteAgentProcess(node.name);
      for (const p of this.routeAgents.values()) await p.waitFor(/"msg":"routes (programmed|adopted unchanged)"/, 180_000);
    }
  }

  async #unixRelay(path: string, port: number): Promise<void> {
    const server = createServer((c) => {
      const u = connect(port, '127.0.0.1');
      c.pipe(u);
      u.pipe(c);
      c.on('error', () => u.destroy());
      u.on('error', () => c.destroy());
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    this.#servers.push(server);
  }

  cluster(name: string): C {
    const c = this.clusters.find((x) => x.name === name);
    if (!c) throw new Error(`no cluster ${name}`);
    return c;
  }

  other(name: string): C {
    return this.clusters.find((x) => x.name !== name)!;
  }

  gatewayNetns(node: string): string {
    return `${this.topo.node(node).netns}-sn`;
  }

  #natsArgs(): string[] {
    return this.cp?.nats ? [`--nats-url=${this.cp.nats.url}`, `--nats-user=${this.cp.nats.user}`, `--nats-password=${this.cp.nats.password}`] : [];
  }

  startOperator(nodeName: string): NsProcess {
    const node = this.topo.node(nodeName);
    const c = this.cluster(node.cluster);
    const stateDir = join(this.#dir, 'state', node.name);
    mkdirSync(stateDir, { recursive: true });
    const p = new NsProcess(node.netns, [
      process.execPath,
      this.#o.operatorMain,
      `--kubeconfig=${c.kubeconfigPath}`,
      `--cluster-id=${c.name}`,
      `--node-name=${node.name}`,
      `--pod-name=${node.name}`,
      `--netns-name=${this.gatewayNetns(node.name)}`,
      `--namespace=${LAB_K8S_NS}`,
      `--pod-cidrs=${c.info.podCIDR}`,
      `--endpoint-ip=${node.wan?.ip ?? node.ip}`,
      `--health-check-ip=${healthIp(c.info.podCIDR)}`,
      `--state-dir=${stateDir}`,
      '--wireguard-implementation=wireguard-go',
      `--probe-addr=127.0.0.1:${OPERATOR_PROBE_PORT}`,
      '--status-interval=1s',
      ...(this.#o.backend === 'vxlan' ? ['--forward-udp-ports=51820,500,4500,4789'] : []),
      ...this.#natsArgs(),
      ...(this.#o.operatorArgs ?? []),
    ]);
    this.operators.set(node.name, p);
    return p;
  }

  /** Starts (or restarts) the real route-agent of a node. */
  startRouteAgentProcess(nodeName: string): NsProcess {
    const main = this.#o.routeAgentMain;
    if (!main) throw new Error('this lab runs no route-agents (routeAgentMain is not set)');
    const node = this.topo.node(nodeName);
    const c = this.cluster(node.cluster);
    const p = new NsProcess(node.netns, [
      process.execPath,
      main,
      `--kubeconfig=${c.kubeconfigPath}`,
      `--cluster-id=${c.name}`,
      `--node-name=${node.name}`,
      `--namespace=${LAB_K8S_NS}`,
      `--probe-addr=127.0.0.1:${ROUTE_AGENT_PROBE_PORT}`,
      ...this.#natsArgs(),
      ...(this.#o.routeAgentArgs ?? []),
    ]);
    this.routeAgents.set(node.name, p);
    return p;
  }

  async holder(cluster: string): Promise<string> {
    const lease = (await this.cluster(cluster).objects.read({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'strait-gateway', namespace: LAB_K8S_NS } })) as { spec?: { holderIdentity?: string } };
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
  routedCidr(_from: string, to: string): string {
    return this.cluster(to).seenAs ?? this.cluster(to).info.podCIDR;
  }

  /** The TunnelEndpoint (plain object) cluster `from` holds for the other cluster, whose active gateway is at `endpointIp`. */
  tunnelEndpointObject(from: string, endpointIp: string) {
    const peer = this.other(from);
    const self = this.cluster(from);
    const backend = this.#o.backend;
    return {
      apiVersion: 'net.strait.io/v1alpha1',
      kind: 'TunnelEndpoint',
      metadata: { name: peer.name, namespace: LAB_K8S_NS, annotations: { 'net.strait.io/health-check-ip': this.addressFromPeer(peer.name, healthIp(peer.info.podCIDR)) } },
      spec: {
        remoteClusterID: peer.name,
        ...(backend === 'vxlan'
          ? { endpoint: { address: endpointIp, port: 4789 }, backend: 'vxlan' as const, backendConfig: { vxlan: { vni: 4242, port: 4789 } } }
          : backend === 'ipsec'
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
      await c.objects.create(this.tunnelEndpointObject(c.name, this.topo.node(holder).wan!.ip) as KubernetesObject);
    }
  }

  /** Starts the route-agent stand-in: routes to the remote CIDR on every node except the active gateway. */
  startStandInRouteAgent(): void {
    if (this.#standIn) return;
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
    this.#standIn = state;
  }

  async pointRoutes(c: C, active: NodeInfo): Promise<void> {
    const dst = this.routedCidr(c.name, this.other(c.name).name);
    await Promise.all(
      c.info.nodes.map(async (n) => {
        if (n.name === active.name) await this.topo.exec(n.netns, 'ip', ['route', 'del', dst]).catch(() => undefined);
        else await this.topo.exec(n.netns, 'ip', ['route', 'replace', dst, 'via', active.ip]);
      }),
    );
  }

  async stopStandInRouteAgent(): Promise<void> {
    if (!this.#standIn) return;
    this.#standIn.stop = true;
    await this.#standIn.loop.catch(() => undefined);
    this.#standIn = undefined;
  }

  async stop(): Promise<void> {
    await this.stopStandInRouteAgent().catch(() => undefined);
    await Promise.all([...this.routeAgents.values()].map((p) => p.stop('SIGKILL', 5_000).catch(() => undefined)));
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

async function installCrds(objects: KubernetesObjectApi, crds: readonly KubernetesObject[], timeoutMs = 60_000): Promise<void> {
  for (const crd of crds) {
    await objects.create(crd).catch(async (e: unknown) => {
      if (!String((e as { code?: number }).code ?? e).includes('409')) throw e;
    });
  }
  await until(
    'CRDs established',
    async () => {
      for (const crd of crds) {
        const c = (await objects.read({ apiVersion: crd.apiVersion!, kind: crd.kind!, metadata: { name: crd.metadata!.name! } })) as { status?: { conditions?: { type: string; status: string }[] } };
        if (!c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) return undefined;
      }
      return true;
    },
    timeoutMs,
    200,
  );
}

/** The Node object of a simulated node: its node-network address as InternalIP, gateways labelled. */
async function createNode(objects: KubernetesObjectApi, n: NodeInfo): Promise<void> {
  const body = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: { ...(n.role === 'gateway' ? { 'strait.io/gateway': 'true' } : {}) } },
    status: { addresses: [{ type: 'InternalIP', address: n.ip }, { type: 'Hostname', address: n.name }] },
  };
  await objects.create(body as KubernetesObject);
  const back = (await objects.read({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.name } })) as { status?: { addresses?: unknown[] } };
  if (!back.status?.addresses?.length) throw new Error(`Node ${n.name}: the API server dropped status.addresses on create`);
}
