import { NetCommandError, type CommandRunner } from '@strait/net';
import { parsePrefix } from './cidr.ts';
import { DriverError, type Backend } from './types.ts';

/**
 * Routes to remote subnets, owned per driver by a routing protocol number (one per backend, so that
 * drivers sharing a namespace never touch each other's routes and `cleanup()` can delete exactly its own).
 * Routes are changed per peer (never "replace the whole set"), so a restarted driver that re-applies its
 * peers one by one never drops another peer's routes in between.
 */
export const ROUTE_PROTOS: Record<Backend, number> = { wireguard: 210, ipsec: 211, vxlan: 212 };

export interface TunnelRoute {
  /** Canonical prefix. */
  readonly dst: string;
  readonly dev: string;
  readonly via?: string;
  readonly onlink?: boolean;
  readonly src?: string;
}

interface IpRouteJson {
  dst?: string;
  dev?: string;
  gateway?: string;
  prefsrc?: string;
  protocol?: string | number;
  flags?: string[];
  table?: string | number;
}

export class OwnedRoutes {
  private readonly runner: CommandRunner;
  private readonly netns: string | undefined;
  readonly proto: number;
  private readonly backend: string;

  constructor(runner: CommandRunner, netns: string | undefined, backend: Backend) {
    this.runner = runner;
    this.netns = netns;
    this.proto = ROUTE_PROTOS[backend];
    this.backend = backend;
  }

  private opts() {
    return this.netns ? { netns: this.netns } : {};
  }

  private async show(family: 4 | 6, extra: string[]): Promise<IpRouteJson[]> {
    const { stdout } = await this.runner.run('ip', [`-${family}`, '-N', '-j', 'route', 'show', 'table', 'main', ...extra], this.opts());
    return stdout.trim() ? (JSON.parse(stdout) as IpRouteJson[]) : [];
  }

  /** This driver's routes in the main table. */
  async list(): Promise<TunnelRoute[]> {
    const out: TunnelRoute[] = [];
    for (const family of [4, 6] as const) {
      for (const r of await this.show(family, ['proto', String(this.proto)])) {
        const dst = parsePrefix(r.dst === 'default' ? (family === 4 ? '0.0.0.0/0' : '::/0') : (r.dst ?? ''), true)?.text;
        if (!dst || !r.dev) continue;
        out.push({ dst, dev: r.dev, via: r.gateway, onlink: r.flags?.includes('onlink') || undefined, src: r.prefsrc });
      }
    }
    return out;
  }

  /** Adds or corrects the given routes; leaves equal ones alone. Refuses to replace a foreign route. */
  async ensure(routes: readonly TunnelRoute[]): Promise<number> {
    if (routes.length === 0) return 0;
    const mine = new Map((await this.list()).map((r) => [r.dst, r]));
    let writes = 0;
    for (const want of routes) {
      const cur = mine.get(want.dst);
      if (cur && cur.dev === want.dev && cur.via === want.via && (cur.src ?? undefined) === (want.src ?? undefined) && Boolean(cur.onlink) === Boolean(want.onlink)) continue;
      if (!cur) {
        const family = want.dst.includes(':') ? 6 : 4;
        const foreign = (await this.show(family, ['exact', want.dst])).filter((r) => Number(r.protocol) !== this.proto);
        if (foreign.length > 0) {
          throw new DriverError(this.backend, `a route to ${want.dst} that Strait did not create exists (protocol ${String(foreign[0]!.protocol)}); refusing to replace it`);
        }
      }
      const args = ['route', 'replace', want.dst, 'dev', want.dev];
      if (want.via) args.push('via', want.via);
      if (want.onlink) args.push('onlink');
      if (want.src) args.push('src', want.src);
      args.push('proto', String(this.proto));
      await this.runner.run('ip', args, this.opts());
      writes++;
    }
    return writes;
  }

  /** Deletes this driver's routes to the given prefixes (absent ones are skipped). */
  async remove(dsts: readonly string[]): Promise<number> {
    if (dsts.length === 0) return 0;
    const mine = new Set((await this.list()).map((r) => r.dst));
    let writes = 0;
    for (const dst of dsts) {
      if (!mine.has(dst)) continue;
      await this.runner.run('ip', ['route', 'del', dst, 'proto', String(this.proto), 'table', 'main'], this.opts()).catch((err: unknown) => {
        if (!(err instanceof NetCommandError && /No such process|not found/i.test(err.stderr))) throw err;
      });
      writes++;
    }
    return writes;
  }

  async removeAll(): Promise<number> {
    return this.remove((await this.list()).map((r) => r.dst));
  }
}
