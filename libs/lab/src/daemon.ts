import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RestClient, SecretResource, serverSideApply } from '@strait/kube';
import { run } from '@strait/net';
import { ManagedProcess, destroyRun, freePorts, startControlPlane, type ControlPlane } from '@strait/testing';
import { gatewayKeySecret } from './keys.ts';
import { NodeNamespace } from './node-namespace.ts';
import { STRAIT_NAMESPACE } from './constants.ts';
import { FIELD_MANAGER, installStrait } from './install.ts';
import { labFiles, nodeBinary, type LabFiles } from './paths.ts';
import { LAB_SERVICES, NODE_LOCAL_SERVICES, serviceArgs } from './services.ts';
import { writeState, type LabState } from './state.ts';

export interface LabDaemonOptions {
  dir: string;
  clusters: number;
}

export const BROKER = 'broker';
export const BROKER_NAMESPACE = 'strait-broker';

export function memberNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `cluster-${i + 1}`);
}

/**
 * The lab's long-lived owner process: builds the lab (a Broker and N member clusters with real control
 * planes, NATS, every Strait service per member cluster as a real process), records it in state.json,
 * then holds it until SIGTERM/SIGINT, when it stops everything it started and removes its files.
 */
export class LabDaemon {
  private readonly files: LabFiles;
  private readonly opts: LabDaemonOptions;
  private readonly t0 = Date.now();
  private cp: ControlPlane | undefined;
  private readonly services: ManagedProcess[] = [];
  private readonly nodes: NodeNamespace[] = [];
  /** Prefix of every network namespace this lab makes: short, unique per lab. */
  private readonly netnsPrefix = `sl${randomBytes(3).toString('hex').slice(0, 4)}`;
  private state: LabState;
  private stopping: Promise<void> | undefined;

  constructor(opts: LabDaemonOptions) {
    this.opts = opts;
    this.files = labFiles(opts.dir);
    mkdirSync(this.files.logs, { recursive: true });
    mkdirSync(this.files.secrets, { recursive: true, mode: 0o700 });
    this.state = {
      version: 1,
      daemonPid: process.pid,
      startedAt: new Date().toISOString(),
      phase: 'starting',
      dir: opts.dir,
      options: { clusters: opts.clusters },
      controlPlanePids: [],
      clusters: [],
      netnsPrefix: this.netnsPrefix,
    };
    writeState(this.files.state, this.state);
  }

  progress(msg: string): void {
    const secs = ((Date.now() - this.t0) / 1000).toFixed(1).padStart(5);
    appendFileSync(this.files.progress, `[${secs}s] ${msg}\n`);
  }

  async up(): Promise<void> {
    const members = memberNames(this.opts.clusters);
    this.progress(`starting control planes: Broker + ${members.length} clusters (${members.join(', ')}), NATS`);
    this.cp = await startControlPlane({
      clusters: [{ name: BROKER }, ...members.map((name) => ({ name, controllerManager: true }))],
      nats: true,
      onProgress: (m) => this.progress(m),
    });
    const cp = this.cp;
    this.state.controlPlaneDir = cp.dir;
    this.state.controlPlanePids = cp.pids();
    const passwordFile = join(this.files.secrets, 'nats-password');
    if (cp.nats) {
      writeFileSync(passwordFile, `${cp.nats.password}\n`, { mode: 0o600 });
      this.state.nats = { url: cp.nats.url, user: cp.nats.user, passwordFile };
    }

    this.progress('installing CRDs, namespaces and gateway keys');
    await Promise.all(
      cp.clusters.map(async (c) => {
        await installStrait(c.kubeConfig(), c.name === BROKER ? [BROKER_NAMESPACE] : [STRAIT_NAMESPACE]);
        if (c.name !== BROKER) {
          const secret = gatewayKeySecret(STRAIT_NAMESPACE);
          await serverSideApply(new RestClient(c.kubeConfig()), secret as never, {
            fieldManager: FIELD_MANAGER,
            descriptor: SecretResource,
          });
        }
      }),
    );
    const broker = cp.cluster(BROKER);
    this.state.clusters = cp.clusters.map((c) => ({
      name: c.name,
      role: c.name === BROKER ? 'broker' : 'member',
      server: c.server,
      kubeconfig: c.kubeconfigPath,
      pids: c.pids(),
      services: [],
    }));
    writeState(this.files.state, this.state);

    const ports = await freePorts(members.length * LAB_SERVICES.length);
    let i = 0;
    const natsPort = cp.nats ? Number(new URL(cp.nats.url).port) : undefined;
    for (const [index, name] of members.entries()) {
      const cluster = cp.cluster(name);
      const st = this.state.clusters.find((c) => c.name === name)!;
      mkdirSync(join(this.files.logs, name), { recursive: true });
      const probePorts = new Map(LAB_SERVICES.map((svc) => [svc, ports[i++]!]));
      // The gateway node: node-local services run in its namespace, as on a real node.
      const nodeName = `${name}-gw-1`;
      const nodeNs = `${this.netnsPrefix}-c${index + 1}-gw1`;
      const node = new NodeNamespace(nodeNs, join(this.files.dir, 'relay'), join(this.files.logs, name, 'node-relay.log'));
      this.nodes.push(node);
      await node.create({
        inward: [Number(new URL(cluster.server).port), ...(natsPort ? [natsPort] : [])],
        outward: LAB_SERVICES.filter((s) => NODE_LOCAL_SERVICES.has(s)).map((s) => probePorts.get(s)!),
      });
      // The gateway namespace is made from the lab's mount namespace: `ip netns exec` gives each node
      // process a private mount namespace, where a namespace it created would be visible to it alone (a real
      // gateway pod mounts /run/netns bidirectionally instead). The tunnel-operator adopts it.
      const gatewayNetns = `${this.netnsPrefix}-c${index + 1}-sn`;
      await run('ip', ['netns', 'add', gatewayNetns]);
      this.progress(`${name}: node ${nodeName} (network namespace ${nodeNs}, gateway namespace ${gatewayNetns})`);
      const started = LAB_SERVICES.map((service) => {
        const probePort = probePorts.get(service)!;
        const log = join(this.files.logs, name, `${service}.log`);
        const spec = {
          name: `${name}/${service}`,
          command: nodeBinary(),
          args: serviceArgs({
            service,
            cluster: name,
            probePort,
            kubeconfig: cluster.kubeconfigPath,
            brokerKubeconfig: broker.kubeconfigPath,
            nats: this.state.nats,
            nodeName,
            gatewayNetns,
            stateDir: join(this.files.dir, 'nodes', nodeName),
          }),
          logFile: log,
        };
        const proc = NODE_LOCAL_SERVICES.has(service) ? node.process(spec) : new ManagedProcess(spec);
        proc.start();
        this.services.push(proc);
        const probe = `http://127.0.0.1:${probePort}`;
        st.services.push({ name: service, cluster: name, pid: proc.pid, probe, log });
        return { proc, probe };
      });
      writeState(this.files.state, this.state);
      await Promise.all(
        started.map(async ({ proc, probe }) => {
          await proc.waitReady(async () => (await fetch(`${probe}/readyz`)).ok, { timeoutMs: 60_000 });
          this.progress(`${proc.name} ready`);
        }),
      );
    }
    this.state.phase = 'ready';
    this.state.readyAt = new Date().toISOString();
    writeState(this.files.state, this.state);
    this.progress(`lab ready in ${((Date.now() - this.t0) / 1000).toFixed(1)} s`);
  }

  fail(err: unknown): void {
    this.state.phase = 'failed';
    this.state.error = err instanceof Error ? err.message : String(err);
    writeState(this.files.state, this.state);
    this.progress(`failed: ${this.state.error.split('\n')[0]}`);
  }

  /** Stops services (SIGTERM, then SIGKILL after 10 s), then the control planes. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.state.phase = 'stopping';
      writeState(this.files.state, this.state);
      this.progress(`stopping ${this.services.length} services`);
      await Promise.all(this.services.map((p) => p.stop({ timeoutMs: 10_000 })));
      await Promise.all(this.nodes.map((n) => n.stop()));
      // Services leave the datapath up when they stop; the lab removes it with its namespaces.
      const removed = await destroyRun(this.netnsPrefix);
      this.progress(`removed ${removed.namespaces.length} network namespaces`);
      if (this.cp) {
        this.progress('stopping control planes');
        await this.cp.stop();
      }
      this.progress('stopped');
    })();
    return this.stopping;
  }
}
