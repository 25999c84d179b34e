import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { locateBinaries } from './binaries.ts';
import { firstServiceIp } from './cidr.ts';
import { Cluster, DEFAULT_SERVICE_CIDR, assertClusterName } from './cluster.ts';
import { NatsServer } from './nats.ts';
import { freePort, withPortRetry } from './ports.ts';
import { registerExitCleanup } from './process.ts';
import type { ClusterHandle, ClusterOptions, ControlPlane, ControlPlaneOptions, NatsHandle } from './types.ts';
import { createWorkdir, releaseWorkdir, releaseWorkdirSync, sweepStaleWorkdirs } from './workdir.ts';

/** Normalises the `clusters` option into one entry per cluster with a unique, valid name. */
export function normalizeClusters(clusters: ControlPlaneOptions['clusters']): Array<Required<Pick<ClusterOptions, 'name' | 'controllerManager' | 'serviceCidr'>> & ClusterOptions> {
  if (typeof clusters === 'number' && (!Number.isInteger(clusters) || clusters < 0 || clusters > 16)) {
    throw new Error(`clusters must be an integer between 0 and 16, got ${clusters}`);
  }
  const list: ClusterOptions[] =
    clusters === undefined
      ? [{}]
      : typeof clusters === 'number'
        ? Array.from({ length: clusters }, () => ({}))
        : clusters;
  const seen = new Set<string>();
  return list.map((c, i) => {
    const name = c.name ?? `cluster-${i + 1}`;
    assertClusterName(name);
    if (seen.has(name)) throw new Error(`cluster name ${JSON.stringify(name)} is used twice`);
    seen.add(name);
    const serviceCidr = c.serviceCidr ?? DEFAULT_SERVICE_CIDR;
    try {
      firstServiceIp(serviceCidr);
    } catch (err) {
      throw new Error(`cluster ${name}: ${(err as Error).message}`, { cause: err });
    }
    return { ...c, name, controllerManager: c.controllerManager ?? false, serviceCidr };
  });
}

function ignoreProgress(): void {
  // no progress output unless asked for
}

class RunningControlPlane implements ControlPlane {
  readonly clusters: Cluster[];
  readonly nats: NatsHandle | undefined;
  private readonly natsServer: NatsServer | undefined;
  readonly dir: string;
  private stopping: Promise<void> | undefined;
  private readonly unregister: () => void;
  private readonly progress: (msg: string) => void;

  constructor(dir: string, clusters: Cluster[], nats: NatsServer | undefined, unregister: () => void, progress: (msg: string) => void) {
    this.dir = dir;
    this.clusters = clusters;
    this.nats = nats;
    this.natsServer = nats;
    this.unregister = unregister;
    this.progress = progress;
  }

  cluster(name: string): ClusterHandle {
    const c = this.clusters.find((x) => x.name === name);
    if (!c) throw new Error(`no cluster named ${JSON.stringify(name)} (have: ${this.clusters.map((x) => x.name).join(', ')})`);
    return c;
  }

  pids(): number[] {
    const pids = this.clusters.flatMap((c) => c.pids());
    const n = this.natsServer?.process;
    if (n?.running && n.pid !== undefined) pids.push(n.pid);
    return pids;
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const t = performance.now();
    const results = await Promise.allSettled([...this.clusters.map((c) => c.stop()), this.nats?.stop()]);
    const kept = await releaseWorkdir(this.dir);
    this.unregister();
    this.progress(`control plane stopped in ${Math.round(performance.now() - t)} ms${kept ? `; files kept in ${this.dir}` : ''}`);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) throw new AggregateError(failed.map((f) => f.reason as unknown), 'stopping the control plane failed');
  }
}

/**
 * Starts N independent Kubernetes control planes (each: its own etcd, CA, kube-apiserver and
 * optionally kube-controller-manager) and a nats-server, all on loopback under one temp directory.
 * Everything runs as child processes of this process; `stop()` kills them and removes the directory.
 * If start-up fails, whatever was started is stopped again before the error is thrown.
 */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const t0 = performance.now();
  const progress = opts.onProgress ?? ignoreProgress;
  const specs = normalizeClusters(opts.clusters);
  const withNats = opts.nats ?? true;

  // Fail before creating anything if a binary is missing.
  const bins = locateBinaries();
  const etcd = specs.length ? bins.path('etcd') : '';
  const apiServer = specs.length ? bins.path('kube-apiserver') : '';
  const controllerManager = specs.some((s) => s.controllerManager) ? bins.path('kube-controller-manager') : undefined;
  const natsBinary = withNats ? bins.path('nats-server') : '';

  sweepStaleWorkdirs();
  const dir = createWorkdir();
  const unregister = registerExitCleanup(() => releaseWorkdirSync(dir));
  progress(`starting ${specs.length} cluster(s)${withNats ? ' and NATS' : ''} in ${dir}`);

  let clusters: Cluster[] = [];
  let nats: NatsServer | undefined;
  try {
    clusters = specs.map(
      (s) =>
        new Cluster({
          name: s.name,
          dir: join(dir, s.name),
          binaries: { etcd, apiServer, ...(controllerManager ? { controllerManager } : {}) },
          controllerManager: s.controllerManager,
          serviceCidr: s.serviceCidr,
          ...(s.apiServerArgs ? { apiServerArgs: s.apiServerArgs } : {}),
          ...(s.controllerManagerArgs ? { controllerManagerArgs: s.controllerManagerArgs } : {}),
          progress,
        }),
    );
    const startNats = async () => {
      if (!withNats) return;
      const t = performance.now();
      const server = await withPortRetry(async () => {
        nats = new NatsServer({
          binary: natsBinary,
          dir: join(dir, 'nats'),
          port: await freePort(),
          monitorPort: await freePort(),
          jetStream: opts.jetStream ?? false,
        });
        await nats.start();
        return nats;
      });
      progress(`nats-server ready at ${server.url} (${Math.round(performance.now() - t)} ms)`);
    };
    const startCluster = async (c: Cluster) => {
      await mkdir(c.dir, { recursive: true });
      await Promise.all([c.createPki(), c.startEtcd()]);
      await c.startKube();
    };
    const results = await Promise.allSettled([startNats(), ...clusters.map(startCluster)]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) throw failed.length === 1 ? failed[0]?.reason : new AggregateError(failed.map((f) => f.reason as unknown), 'control plane start-up failed');
  } catch (err) {
    const stopper = new RunningControlPlane(dir, clusters, nats, unregister, progress);
    await stopper.stop().catch(ignoreProgress);
    throw err;
  }
  const running = new RunningControlPlane(dir, clusters, nats, unregister, progress);
  progress(`control plane ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return running;
}
