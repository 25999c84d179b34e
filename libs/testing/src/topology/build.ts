import {
  IpAddresses,
  IpLinks,
  IpNetns,
  IpRoutes,
  ProcSysctl,
  defaultCommandRunner,
  type CommandRunner,
} from '@strait/net';
import { registerExitCleanup } from '../process.ts';
import { destroyRun, destroyRunSync } from './cleanup.ts';
import { TOPOLOGY_OWNER, TOPOLOGY_ROUTE_PROTO, desiredState, type NetnsDesired } from './desired.ts';
import { belongsToRun } from './names.ts';
import { planTopology } from './plan.ts';
import { Topology } from './topology.ts';
import type { TopologySpec } from './types.ts';

/**
 * Builds a simulated multi-cluster network out of network namespaces (see docs/testing/topology.md):
 * per cluster a switch (a namespace holding a bridge) for the node network, nodes and pods as
 * namespaces with veths, host-gw pod routing between the nodes of a cluster, and one WAN switch
 * joining every gateway node. Nothing routes between clusters: that is Strait's job.
 *
 * Order: the whole spec is validated and planned first (a bad value throws before anything is
 * created); namespaces are created; then switches, nodes, pods/external hosts are configured through
 * `@strait/net`'s ports. A failure at any point removes everything of the run before the error is
 * thrown. A process-exit handler removes the run if the process ends without `destroy()`.
 */

export interface BuildOptions {
  /** Runs every kernel command (default: `@strait/net`'s real runner). Tests inject failures here. */
  readonly runner?: CommandRunner;
  /** Namespaces configured at once (default 8). */
  readonly concurrency?: number;
  /** Node binary for the helper scripts (default: this process's). */
  readonly nodeBinary?: string;
  /** Progress lines (`namespaces: 21 created`). */
  readonly log?: (line: string) => void;
}

export class TopologyBuildError extends Error {
  override readonly name = 'TopologyBuildError';
  readonly runId: string;
  /** Set when clean-up after the failure did not remove everything. */
  readonly cleanupError: Error | undefined;
  constructor(runId: string, cause: unknown, cleanupError?: Error) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      cleanupError
        ? `building topology ${runId} failed: ${why}; clean-up failed too: ${cleanupError.message}`
        : `building topology ${runId} failed: ${why} (everything it created was removed)`,
      { cause },
    );
    this.runId = runId;
    this.cleanupError = cleanupError;
  }
}

/** Runs `fn` over `items`, at most `limit` at once; stops starting new ones after a failure, waits for the running ones, throws the first error. */
export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (e) {
        failed ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw failed.error;
}

export async function buildTopology(spec: TopologySpec, options: BuildOptions = {}): Promise<Topology> {
  const plan = planTopology(spec);
  const desired = desiredState(plan);
  const runner = options.runner ?? defaultCommandRunner();
  const concurrency = options.concurrency ?? 8;
  const log = options.log ?? ((): void => undefined);
  const netns = new IpNetns(runner);
  const links = new IpLinks(runner);
  const addresses = new IpAddresses(runner);
  const routes = new IpRoutes(runner);
  const sysctl = new ProcSysctl(runner);
  const scope = { owner: TOPOLOGY_OWNER };

  const existing = (await netns.list()).filter((n) => belongsToRun(plan.runId, n));
  if (existing.length > 0) {
    throw new Error(
      `topology ${plan.runId}: namespaces of this run id already exist (${existing.slice(0, 5).join(', ')}${existing.length > 5 ? ', ...' : ''}): destroy them first (destroyRun("${plan.runId}")) or use another runId`,
    );
  }

  const unregisterExit = registerExitCleanup(() => destroyRunSync(plan.runId));
  const started = performance.now();
  const apply = async (d: NetnsDesired): Promise<void> => {
    await links.apply(d.netns, d.links, scope);
    if (Object.keys(d.sysctl).length > 0) await sysctl.apply(d.netns, d.sysctl);
    if (d.addresses.length > 0) await addresses.apply(d.netns, d.addresses, scope);
    if (d.routes.length > 0) await routes.apply(d.netns, d.routes, { proto: TOPOLOGY_ROUTE_PROTO });
  };
  try {
    await mapLimit(plan.namespaces, concurrency, async (ns) => {
      await netns.ensure(ns);
      await runner.run('ip', ['link', 'set', 'dev', 'lo', 'up'], { netns: ns });
    });
    log(`topology ${plan.runId}: ${plan.namespaces.length} namespaces created`);
    await mapLimit(desired.switches, concurrency, apply);
    await mapLimit(desired.nodes, concurrency, apply);
    await mapLimit(desired.leaves, concurrency, apply);
  } catch (e) {
    let cleanupError: Error | undefined;
    try {
      await destroyRun(plan.runId, runner);
    } catch (ce) {
      // The injected/real runner may be what failed: try once more with a fresh real runner.
      try {
        await destroyRun(plan.runId, defaultCommandRunner());
      } catch (ce2) {
        cleanupError = ce2 instanceof Error ? ce2 : new Error(String(ce2 ?? ce));
      }
    }
    if (!cleanupError) unregisterExit();
    throw new TopologyBuildError(plan.runId, e, cleanupError);
  }
  log(`topology ${plan.runId}: built in ${Math.round(performance.now() - started)} ms`);
  return new Topology(plan, runner, unregisterExit, options.nodeBinary);
}
