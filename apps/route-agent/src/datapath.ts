import { VXLAN_LINK } from '@strait/api';
import {
  HOST,
  IpAddresses,
  IpLinks,
  IpNeighbours,
  IpRoutes,
  NftTables,
  ProcSysctl,
  confKey,
  type CommandRunner,
  type AddressesPort,
  type LinksPort,
  type NeighboursPort,
  type NftPort,
  type RoutesPort,
  type SysctlPort,
} from '@strait/net';
import { LINK_OWNER, MAIN_TABLE, MSS_TABLE, ROUTE_PROTO, type NodeDesired } from './desired.ts';

/**
 * The one place that writes the kernel for route-agent, in the host namespace, through libs/net's
 * owned-only diffs (the same desired state twice → no write):
 *  - links/addresses/fdb by the link alias `strait:route-agent`, routes by proto 202 in the main
 *    table, the nft table `inet strait_route_mss`; sysctl keys of vx-strait;
 *  - make before break: the link and the new fdb entry exist before the routes move to it;
 *  - loose reverse-path filtering on the node's underlay device towards the active gateway when it is
 *    strict (the gateway answers through the node network while the request left through vx-strait);
 *  - uninstall(): everything above that is route-agent's, nothing else.
 */

export interface RouteDatapathPorts {
  readonly links: LinksPort;
  readonly addresses: AddressesPort;
  readonly neighbours: NeighboursPort;
  readonly routes: RoutesPort;
  readonly sysctl: SysctlPort;
  readonly nft: NftPort;
}

/** The real kernel ports over one command runner (the service and `route-agent uninstall`). */
export function kernelPorts(runner: CommandRunner): RouteDatapathPorts {
  return {
    links: new IpLinks(runner),
    addresses: new IpAddresses(runner),
    neighbours: new IpNeighbours(runner),
    routes: new IpRoutes(runner),
    sysctl: new ProcSysctl(runner),
    nft: new NftTables(runner),
  };
}

export interface RouteDatapathOptions {
  readonly ports: RouteDatapathPorts;
  /** The device the node reaches `ip` through (`ip route get`); undefined when unknown. */
  readonly underlayDevice: (ip: string) => Promise<string | undefined>;
}

export interface ApplyOutcome {
  readonly writes: number;
  /** Routes route-agent holds after the apply. */
  readonly routes: number;
  /** An underlay device whose rp_filter was loosened (strict → loose). */
  readonly loosened: string | undefined;
}

export const LINK_SCOPE = { owner: LINK_OWNER } as const;
export const ROUTE_SCOPE = { proto: ROUTE_PROTO, tables: [MAIN_TABLE] } as const;

export class RouteDatapath {
  readonly #o: RouteDatapathOptions;

  constructor(o: RouteDatapathOptions) {
    this.#o = o;
  }

  /**
   * Applies `d`. `pointsOnly`: only the fdb entry, the routes and the underlay check (a re-point or a
   * role change, when the link, its address, sysctl and MSS table were applied before and do not depend
   * on the gateway) — fewer kernel reads on the failover path; the periodic full apply repairs the rest.
   */
  async apply(d: NodeDesired, gatewayIp: string | undefined, opts: { pointsOnly?: boolean } = {}): Promise<ApplyOutcome> {
    const p = this.#o.ports;
    let writes = 0;
    if (!opts.pointsOnly) {
      writes += (await p.links.apply(HOST, d.links, LINK_SCOPE)).writes;
      const [a, s] = await Promise.all([p.addresses.apply(HOST, d.addresses, LINK_SCOPE), p.sysctl.apply(HOST, d.sysctl)]);
      writes += a.writes + s.writes;
    }
    // Make before break: the new fdb destination exists before the routes move to the new next hop.
    writes += (await p.neighbours.applyFdb(HOST, d.fdb, LINK_SCOPE)).writes;
    writes += (await p.routes.apply(HOST, d.routes, ROUTE_SCOPE)).writes;
    let loosened: string | undefined;
    if (d.routes.length > 0 && gatewayIp) {
      const dev = await this.#o.underlayDevice(gatewayIp).catch(() => undefined);
      if (dev && dev !== VXLAN_LINK) {
        const all = confKey(4, 'all', 'rp_filter');
        const own = confKey(4, dev, 'rp_filter');
        const cur = await p.sysctl.get(HOST, [all, own]);
        if (Math.max(Number(cur.get(all) ?? 0), Number(cur.get(own) ?? 0)) === 1) {
          writes += (await p.sysctl.apply(HOST, { [own]: 2 })).writes;
          loosened = dev;
        }
      }
    }
    if (!opts.pointsOnly) writes += (await p.nft.apply(HOST, d.nft)).writes;
    return { writes, routes: d.routes.length, loosened };
  }

  /** Removes everything route-agent created on this node (routes, vx-strait with its fdb and address, the MSS table). */
  async uninstall(): Promise<{ writes: number; routes: number; links: number }> {
    const p = this.#o.ports;
    const r = await p.routes.deleteOwned(HOST, ROUTE_SCOPE);
    const l = await p.links.deleteOwned(HOST, LINK_SCOPE);
    const n = await p.nft.deleteTable(HOST, 'inet', MSS_TABLE);
    return { writes: r.writes + l.writes + n.writes, routes: r.removed, links: l.removed };
  }
}

/** `ip -j route get <ip>` → the output device. */
export function routeGetDevice(run: (cmd: string, args: readonly string[]) => Promise<{ stdout: string }>): (ip: string) => Promise<string | undefined> {
  return async (ip) => {
    const { stdout } = await run('ip', ['-j', 'route', 'get', ip]);
    const parsed = JSON.parse(stdout) as { dev?: string }[];
    return parsed[0]?.dev;
  };
}
