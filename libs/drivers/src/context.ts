import { mkdirSync } from 'node:fs';
import { defaultCommandRunner, type CommandRunner } from '@strait/net';
import type { Registry } from 'prom-client';
import { canonicalIp } from './cidr.ts';
import { PingProber, type Prober, type ProberOptions } from './health/ping-prober.ts';
import { DriverConfigError, silentLogger, type DriverLogger } from './types.ts';
import { checkClusterId } from './validate.ts';

/** Everything a driver needs to know about the gateway it runs on. */
export interface GatewayContext {
  /** This cluster's id (IKE identity, VXLAN MAC derivation). */
  readonly clusterId: string;
  /** The gateway's network namespace (`strait-netns` on a node); undefined = the caller's. */
  readonly netns?: string;
  /** The gateway's underlay address (the local tunnel endpoint). */
  readonly localIp: string;
  /** Underlay MTU; default: the MTU of the interface holding `localIp`. */
  readonly underlayMtu?: number;
  /** Private directory for daemons' sockets, pid files and logs (created 0700). */
  readonly stateDir: string;
  readonly runner?: CommandRunner;
  readonly logger?: DriverLogger;
  /** prom-client registry for the drivers' metrics. */
  readonly metrics?: Registry;
  readonly health?: HealthOptions;
  /** Replaces the ICMP prober (unit tests). */
  readonly proberFactory?: (opts: ProberOptions) => Prober;
}

export interface HealthOptions {
  /** Probe interval (default 1000 ms). */
  readonly intervalMs?: number;
  /** Probes in the RTT/loss window (default 30). */
  readonly window?: number;
  /** Consecutive lost probes that make a connection Error (default 5). */
  readonly failAfter?: number;
}

export interface ResolvedContext {
  readonly clusterId: string;
  readonly netns: string | undefined;
  readonly localIp: string;
  readonly stateDir: string;
  readonly runner: CommandRunner;
  readonly logger: DriverLogger;
  readonly metrics: Registry | undefined;
  readonly health: Required<HealthOptions>;
  readonly underlayMtu: number | undefined;
  newProber(opts: Omit<ProberOptions, 'netns' | 'intervalMs' | 'window'>): Prober;
}

export function resolveContext(backend: string, ctx: GatewayContext): ResolvedContext {
  if (!ctx || typeof ctx !== 'object') throw new DriverConfigError(backend, 'context', 'missing gateway context');
  checkClusterId(backend, 'context.clusterId', ctx.clusterId);
  const localIp = canonicalIp(ctx.localIp);
  if (!localIp) throw new DriverConfigError(backend, 'context.localIp', `${JSON.stringify(ctx.localIp)} is not an IP address`);
  if (typeof ctx.stateDir !== 'string' || !ctx.stateDir.startsWith('/')) throw new DriverConfigError(backend, 'context.stateDir', 'must be an absolute path');
  if (ctx.underlayMtu !== undefined && (!Number.isInteger(ctx.underlayMtu) || ctx.underlayMtu < 1280 || ctx.underlayMtu > 65535)) {
    throw new DriverConfigError(backend, 'context.underlayMtu', `${ctx.underlayMtu} is not an MTU (1280-65535)`);
  }
  const health = { intervalMs: ctx.health?.intervalMs ?? 1000, window: ctx.health?.window ?? 30, failAfter: ctx.health?.failAfter ?? 5 };
  if (health.intervalMs < 200) throw new DriverConfigError(backend, 'context.health.intervalMs', 'must be at least 200 ms');
  const factory = ctx.proberFactory ?? ((o: ProberOptions) => new PingProber(o));
  return {
    clusterId: ctx.clusterId,
    netns: ctx.netns,
    localIp,
    stateDir: ctx.stateDir,
    runner: ctx.runner ?? defaultCommandRunner(),
    logger: ctx.logger ?? silentLogger,
    metrics: ctx.metrics,
    health,
    underlayMtu: ctx.underlayMtu,
    newProber: (o) => factory({ ...o, netns: ctx.netns, intervalMs: health.intervalMs, window: health.window }),
  };
}

export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  return path;
}

interface AddrJson {
  ifname: string;
  mtu: number;
  addr_info?: { local?: string }[];
}

/** The MTU of the interface that holds `localIp` in the namespace (the underlay). */
export async function underlayMtu(ctx: ResolvedContext): Promise<number> {
  if (ctx.underlayMtu) return ctx.underlayMtu;
  const { stdout } = await ctx.runner.run('ip', ['-j', 'addr', 'show'], ctx.netns ? { netns: ctx.netns } : {});
  const links = (stdout.trim() ? JSON.parse(stdout) : []) as AddrJson[];
  const link = links.find((l) => l.addr_info?.some((a) => a.local !== undefined && canonicalIp(a.local) === ctx.localIp));
  if (!link) throw new DriverConfigError('gateway', 'context.localIp', `${ctx.localIp} is not assigned to any interface${ctx.netns ? ` in netns ${ctx.netns}` : ''}`);
  return link.mtu;
}

/** `ip:port`, IPv6 in brackets. */
export function formatEndpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
