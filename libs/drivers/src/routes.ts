import { NetCommandError, runIpTransaction, type CommandRunner, type IpOp } from '@strait/net';
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
      if (cur && sameRoute(cur, want)) continue;
      if (!cur) {
        const family = want.dst.includes(':') ? 6 : 4;
        const foreign = (await this.show(family, ['exact', want.dst])).filter((r) => Number(r.protocol) !== this.proto);
        if (foreign.length > 0) {
          throw new DriverError(this.backend, `a route to ${want.dst} that Strait did not create exists (protocol ${String(foreign[0]!.protocol)}); refusing to replace it`);
        }
      }
      await this.runner.run('ip', this.replaceArgs(want), this.opts());
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

  /**
   * Many peers' routes in one go: deletes this driver's routes to `remove` (unless also wanted) and adds
   * or corrects `routes`, with one listing and one `ip -batch` (all-or-nothing: a failure undoes the
   * lines that ran). Refuses, before any change, to replace a route Strait did not create.
   */
  async apply(remove: readonly string[], routes: readonly TunnelRoute[]): Promise<number> {
    if (remove.length === 0 && routes.length === 0) return 0;
    // One dump of the main table per family concerned: this driver's routes and any foreign one in the way.
    const mine = new Map<string, TunnelRoute>();
    const foreign = new Map<string, string>();
    const families = new Set([...remove, ...routes.map((r) => r.dst)].map((d) => (d.includes(':') ? 6 : 4)));
    for (const family of [...families].sort()) {
      for (const r of await this.show(family, [])) {
        const dst = parsePrefix(r.dst === 'default' ? (family === 4 ? '0.0.0.0/0' : '::/0') : (r.dst ?? ''), true)?.text;
        if (!dst) continue;
        if (Number(r.protocol) !== this.proto) foreign.set(dst, String(r.protocol));
        else if (r.dev) mine.set(dst, { dst, dev: r.dev, via: r.gateway, onlink: r.flags?.includes('onlink') || undefined, src: r.prefsrc });
      }
    }
    const wanted = new Set(routes.map((r) => r.dst));
    const ops: IpOp[] = [];
    for (const dst of new Set(remove)) {
      const cur = mine.get(dst);
      if (cur && !wanted.has(dst)) ops.push({ args: this.delArgs(dst), undo: this.replaceArgs(cur) });
    }
    for (const want of routes) {
      const proto = mine.has(want.dst) ? undefined : foreign.get(want.dst);
      if (proto !== undefined) throw new DriverError(this.backend, `a route to ${want.dst} that Strait did not create exists (protocol ${proto}); refusing to replace it`);
    }
    for (const want of routes) {
      const cur = mine.get(want.dst);
      if (cur && sameRoute(cur, want)) continue;
      ops.push({ args: this.replaceArgs(want), undo: cur ? this.replaceArgs(cur) : this.delArgs(want.dst) });
    }
    await runIpTransaction(this.runner, this.netns, ops);
    return ops.length;
  }

  private replaceArgs(r: TunnelRoute): string[] {
    const args = ['route', 'replace', r.dst, 'dev', r.dev];
    if (r.via) args.push('via', r.via);
    if (r.onlink) args.push('onlink');
    if (r.src) args.push('src', r.src);
    args.push('proto', String(this.proto));
    return args;
  }

  private delArgs(dst: string): string[] {
    return ['route', 'del', dst, 'proto', String(this.proto), 'table', 'main'];
  }

  async removeAll(): Promise<number> {
    return this.remove((await this.list()).map((r) => r.dst));
  }
}

function sameRoute(cur: TunnelRoute, want: TunnelRoute): boolean {
  return cur.dev === want.dev && cur.via === want.via && (cur.src ?? undefined) === (want.src ?? undefined) && Boolean(cur.onlink) === Boolean(want.onlink);
}
