import type { CommandRunner, RunResult } from '@strait/net';
import { destroyRun, type CleanupReport } from './cleanup.ts';
import { allExternalHosts, allNodes, allPods, clusterOfNetns, namespacesOfIp } from './plan.ts';
import { pingFrom, type PingOptions, type PingResult } from './ping.ts';
import { startProbeProcess, type ProbeHandle, type ProbeOptions } from './probe.ts';
import { tcpTransferBetween, type TcpTransferOptions, type TcpTransferResult } from './tcp-transfer.ts';
import { ToolProcess } from './tool-process.ts';
import type { ClusterInfo, ExternalHostInfo, NodeInfo, PodInfo, TopologyPlan, WanInfo } from './types.ts';

/**
 * A built topology: the plan (every name and address) plus ways to use it — run a command in a
 * namespace, ping, a TCP transfer both ways, a continuous loss probe — and `destroy()`.
 * Made by `buildTopology`.
 */
export class Topology {
  readonly runId: string;
  readonly plan: TopologyPlan;
  readonly wan: WanInfo;
  readonly clusters: readonly ClusterInfo[];
  readonly #runner: CommandRunner;
  readonly #nodeBinary: string | undefined;
  readonly #unregisterExit: () => void;
  readonly #helpers = new Set<ToolProcess>();
  readonly #echo = new Map<string, { port: number; proc: ToolProcess; ready: Promise<unknown> }>();
  #destroyed: Promise<CleanupReport> | undefined;

  constructor(plan: TopologyPlan, runner: CommandRunner, unregisterExit: () => void, nodeBinary?: string) {
    this.runId = plan.runId;
    this.plan = plan;
    this.wan = plan.wan;
    this.clusters = plan.clusters;
    this.#runner = runner;
    this.#unregisterExit = unregisterExit;
    this.#nodeBinary = nodeBinary;
  }

  get nodes(): NodeInfo[] {
    return allNodes(this.plan);
  }

  get gateways(): NodeInfo[] {
    return this.nodes.filter((n) => n.role === 'gateway');
  }

  get pods(): PodInfo[] {
    return allPods(this.plan);
  }

  get externalHosts(): ExternalHostInfo[] {
    return allExternalHosts(this.plan);
  }

  get namespaces(): readonly string[] {
    return this.plan.namespaces;
  }

  cluster(name: string): ClusterInfo {
    const c = this.clusters.find((x) => x.name === name);
    if (!c) throw new Error(`topology ${this.runId}: no cluster ${name} (have ${this.clusters.map((x) => x.name).join(', ')})`);
    return c;
  }

  node(name: string): NodeInfo {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`topology ${this.runId}: no node ${name}`);
    return n;
  }

  pod(name: string): PodInfo {
    const p = this.pods.find((x) => x.name === name);
    if (!p) throw new Error(`topology ${this.runId}: no pod ${name}`);
    return p;
  }

  /** Runs a command inside a namespace (through `@strait/net`'s runner: throws NetCommandError on failure). */
  exec(netns: string, cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    this.#assertAlive();
    return this.#runner.run(cmd, args, { netns, ...opts });
  }

  /** Sets a link up or down (e.g. a node's switch port, to cut a path for a while). */
  async setLinkUp(netns: string, ifname: string, up: boolean): Promise<void> {
    await this.exec(netns, 'ip', ['link', 'set', 'dev', ifname, up ? 'up' : 'down']);
  }

  ping(fromNetns: string, ip: string, opts: PingOptions = {}): Promise<PingResult> {
    this.#assertAlive();
    return pingFrom(fromNetns, ip, opts);
  }

  /** `bytes` from `fromNetns` to `toIp` (served in `toNetns`) and `bytes` back, verified byte for byte. */
  tcpTransfer(fromNetns: string, toNetns: string, toIp: string, bytes: number, writeSize = 1400, opts: TcpTransferOptions = {}): Promise<TcpTransferResult> {
    this.#assertAlive();
    return tcpTransferBetween(fromNetns, toNetns, toIp, bytes, writeSize, opts, this.#toolDeps());
  }

  /** A continuous UDP probe (default 100/s) from `fromNetns` to `toIp`; see {@link ProbeHandle}. */
  startProbe(fromNetns: string, toIp: string, opts: ProbeOptions = {}): Promise<ProbeHandle> {
    this.#assertAlive();
    const toNetns = opts.toNetns ?? this.#targetNetnsOf(fromNetns, toIp);
    return startProbeProcess(fromNetns, toNetns, toIp, opts, {
      ...this.#toolDeps(),
      echo: (ns, port) => this.#ensureEcho(ns, port),
    });
  }

  /**
   * Kills every helper, deletes every namespace of the run (with whatever runs inside) and any run
   * link left in the caller's namespace. Idempotent; works after a partial build.
   */
  destroy(): Promise<CleanupReport> {
    this.#destroyed ??= (async () => {
      await Promise.all([...this.#helpers].map((p) => p.kill()));
      this.#helpers.clear();
      this.#echo.clear();
      const report = await destroyRun(this.runId, this.#runner);
      this.#unregisterExit();
      return report;
    })();
    return this.#destroyed;
  }

  #assertAlive(): void {
    if (this.#destroyed) throw new Error(`topology ${this.runId} is destroyed`);
  }

  #toolDeps(): { nodeBinary?: string; track: (p: ToolProcess) => void } {
    return {
      ...(this.#nodeBinary ? { nodeBinary: this.#nodeBinary } : {}),
      track: (p) => {
        this.#helpers.add(p);
        void p.exited.then(() => this.#helpers.delete(p));
      },
    };
  }

  /** The namespace holding `ip`; with overlapping clusters, the one in the source's own cluster. */
  #targetNetnsOf(fromNetns: string, ip: string): string {
    const found = namespacesOfIp(this.plan, ip);
    if (found.length === 1) return found[0] as string;
    const from = clusterOfNetns(this.plan, fromNetns);
    const same = found.filter((ns) => from !== undefined && clusterOfNetns(this.plan, ns) === from);
    if (same.length === 1) return same[0] as string;
    throw new Error(
      found.length === 0
        ? `startProbe: ${ip} is not an address of topology ${this.runId}: give opts.toNetns (the namespace that answers)`
        : `startProbe: ${ip} is in several namespaces (${found.join(', ')}): give opts.toNetns`,
    );
  }

  async #ensureEcho(netns: string, port: number): Promise<void> {
    const cur = this.#echo.get(netns);
    if (cur && cur.proc.running) {
      if (cur.port !== port) throw new Error(`startProbe: the echo responder in ${netns} listens on ${cur.port}, not ${port}`);
      await cur.ready;
      return;
    }
    const proc = new ToolProcess({ netns, script: 'udp-echo.ts', args: ['--port', String(port)], ...(this.#nodeBinary ? { nodeBinary: this.#nodeBinary } : {}) });
    this.#toolDeps().track(proc);
    const ready = proc.waitFor('ready', 10_000);
    this.#echo.set(netns, { port, proc, ready });
    try {
      await ready;
    } catch (e) {
      this.#echo.delete(netns);
      await proc.kill();
      throw e;
    }
  }
}
