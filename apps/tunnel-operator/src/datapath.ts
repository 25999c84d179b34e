import { join } from 'node:path';
import { GATEWAY_VETH, ROUTING_TABLE_ID } from '@strait/api';
import { IpsecDriver, OwnedRoutes, WG_LINK_OWNER_ALIAS, type Cables, type ConnectionStatus, type DriverLogger } from '@strait/drivers';
import {
  findWireGuardLink,
  type AddressesPort,
  type CommandRunner,
  type LinksPort,
  type NetnsPort,
  type NftPort,
  type RoutesPort,
  type RulesPort,
  type SysctlPort,
  type WireGuardImplementationChoice,
} from '@strait/net';
import { LINK_OWNER, type GatewayLayout } from './layout.ts';
import { hostPeerState, peerHealthAddresses, remapTable, type PeerDesired } from './peers.ts';

/**
 * The one place that writes the kernel for tunnel-operator. Every write goes through a libs/net port
 * with owned-only diffs (same desired state twice → no write):
 *  - prepare(): the layout every replica keeps (create or adopt; an existing veth is never recreated);
 *  - applyPeers(): host rules/routes of table 18952 and the remap table, for the given peers;
 *  - connect()/disconnect(): the cable drivers (tunnel links, peers, routes inside the gateway netns);
 *  - release(): what a standby must not hold (peers, host rules/routes), also after a crash.
 */

export interface DatapathPorts {
  readonly netns: NetnsPort;
  readonly links: LinksPort;
  readonly addresses: AddressesPort;
  readonly routes: RoutesPort;
  readonly rules: RulesPort;
  readonly sysctl: SysctlPort;
  readonly nft: NftPort;
}

export interface WireGuardLinkRef {
  readonly ifname: string;
  readonly implementation: WireGuardImplementationChoice;
  readonly stateDir: string;
}

export interface GatewayDatapathOptions {
  readonly netnsName: string;
  readonly layout: GatewayLayout;
  readonly ports: DatapathPorts;
  readonly runner: CommandRunner;
  readonly cables: Cables;
  /** The WireGuard link to clear of peers when this replica must not hold any (undefined: no WireGuard). */
  readonly wireguard?: WireGuardLinkRef | undefined;
  /** IPsec in use (the key Secret has a PSK): a standby drops every IPsec connection it does not hold. */
  readonly ipsec?: boolean | undefined;
  readonly logger: DriverLogger;
}

export interface PrepareOutcome {
  readonly netnsCreated: boolean;
  readonly writes: number;
}

const HOST_SCOPE = { tables: [ROUTING_TABLE_ID] } as const;

export interface ApplyOptions {
  /** Diff against the kernel even what equals the last applied state (drift repair). */
  readonly verify?: boolean | undefined;
}

export class GatewayDatapath {
  readonly #o: GatewayDatapathOptions;
  /** What this process last applied successfully of the parts that change only with a remap. */
  readonly #applied = new Map<'remap' | 'addresses', string>();

  constructor(o: GatewayDatapathOptions) {
    this.#o = o;
  }

  get cables(): Cables {
    return this.#o.cables;
  }

  /** Creates or adopts the gateway namespace, the veth pair, addresses, forwarding and the port forward. */
  async prepare(): Promise<PrepareOutcome> {
    const { ports, netnsName: ns, layout, runner } = this.#o;
    let writes = 0;
    const created = (await ports.netns.ensure(ns)).added > 0;
    const lo = await ports.links.get(ns, 'lo');
    if (lo && !lo.up) {
      await runner.run('ip', ['link', 'set', 'dev', 'lo', 'up'], { netns: ns });
      writes++;
    }
    const scope = { owner: LINK_OWNER };
    writes += (await ports.links.apply(undefined, layout.host.links, scope)).writes;
    const gw = await ports.links.get(ns, GATEWAY_VETH);
    if (!gw) throw new Error(`the gateway end ${GATEWAY_VETH} of the veth is not in namespace ${ns}`);
    if (!gw.up) {
      await runner.run('ip', ['link', 'set', 'dev', GATEWAY_VETH, 'up'], { netns: ns });
      writes++;
    }
    writes += (await ports.addresses.apply(undefined, layout.host.addresses, scope)).writes;
    // Host addresses on the gateway end that the layout does not list are the peers' remapped
    // health-check addresses (applyPeers reconciles them): kept, so a restart writes nothing.
    const layoutKeys = new Set(layout.gateway.addresses.map((a) => `${a.dev}|${a.address}`));
    const peerAddrs = (await ports.addresses.list(ns, scope)).filter(
      (a) => a.dev === GATEWAY_VETH && a.noprefixroute && /\/(32|128)$/.test(a.address) && !layoutKeys.has(`${a.dev}|${a.address}`),
    );
    writes += (await ports.addresses.apply(ns, [...layout.gateway.addresses, ...peerAddrs], scope)).writes;
    writes += (await ports.sysctl.apply(undefined, layout.host.sysctl)).writes;
    writes += (await ports.sysctl.apply(ns, layout.gateway.sysctl)).writes;
    writes += (await ports.routes.apply(ns, layout.gateway.routes)).writes;
    writes += (await ports.nft.apply(undefined, layout.host.nft)).writes;
    return { netnsCreated: created, writes };
  }

  /**
   * Host rules and routes of table 18952, the remap NAT and the remapped health-check addresses for
   * exactly these peers. The rules and routes are diffed against the kernel every time; the remap table
   * and the addresses, which change only with a remap, are diffed against the kernel when they differ from
   * what this process last applied, or when `verify` asks for it (drift repair).
   */
  async applyPeers(peers: readonly PeerDesired[], opts: ApplyOptions = {}): Promise<number> {
    const { ports, netnsName: ns, layout } = this.#o;
    const host = hostPeerState(peers, layout.veth.gatewayIp);
    const [a, b, c, d] = await Promise.all([
      this.#unlessApplied('remap', remapTable(peers), opts, async (table) => (await ports.nft.apply(ns, table)).writes),
      ports.routes.apply(undefined, host.routes, HOST_SCOPE),
      ports.rules.apply(undefined, host.rules, HOST_SCOPE),
      this.applyHealthAddresses(peers, opts),
    ]);
    return a + b.writes + c.writes + d;
  }

  /**
   * The layout's addresses in the gateway namespace plus the remapped health-check addresses of exactly
   * these peers. A remapped peer needs its address before its driver connects (the probe's source and
   * the tunnel routes' `src`).
   */
  async applyHealthAddresses(peers: readonly PeerDesired[], opts: ApplyOptions = {}): Promise<number> {
    const { ports, netnsName: ns, layout } = this.#o;
    const want = [...layout.gateway.addresses, ...peerHealthAddresses(peers)];
    return this.#unlessApplied('addresses', want, opts, async (w) => (await ports.addresses.apply(ns, w, { owner: LINK_OWNER })).writes);
  }

  /** Applies `want` unless it equals what was last applied successfully (and no verify is asked for). */
  async #unlessApplied<T>(what: 'remap' | 'addresses', want: T, opts: ApplyOptions, apply: (want: T) => Promise<number>): Promise<number> {
    const text = JSON.stringify(want);
    if (!opts.verify && this.#applied.get(what) === text) return 0;
    this.#applied.delete(what);
    const writes = await apply(want);
    this.#applied.set(what, text);
    return writes;
  }

  connect(peer: PeerDesired): Promise<ConnectionStatus> {
    return this.#o.cables.connect(peer.spec);
  }

  disconnect(clusterId: string): Promise<void> {
    return this.#o.cables.disconnect(clusterId);
  }

  /**
   * Prepares a backend's shared machinery (link, daemon) ahead of activation, so that a standby is hot
   * (IPsec: charon started or adopted). Idempotent; a failure is the caller's to log (connect retries).
   */
  async warm(backend: string): Promise<void> {
    await this.#o.cables.driver(backend).init();
  }

  /**
   * What a standby must not hold: host rules/routes to table 18952 and tunnel peers — the known ones
   * through their drivers, and anything an earlier process left (a crash): WireGuard peers on the link,
   * IPsec connections and SAs in charon (which outlives the process).
   * The namespace, veth, links, daemons and the remap table stay (hot standby).
   */
  async release(knownPeers: readonly string[]): Promise<number> {
    const { ports, runner, netnsName: ns, wireguard, logger } = this.#o;
    let writes = 0;
    writes += (await ports.rules.apply(undefined, [], HOST_SCOPE)).writes;
    writes += (await ports.routes.apply(undefined, [], HOST_SCOPE)).writes;
    await Promise.all(knownPeers.map((id) => this.#o.cables.disconnect(id)));
    writes += knownPeers.length;
    if (wireguard) {
      const link = await findWireGuardLink({
        ifname: wireguard.ifname,
        netns: ns,
        runner,
        implementation: wireguard.implementation,
        runDir: join(wireguard.stateDir, 'wireguard'),
        alias: WG_LINK_OWNER_ALIAS,
      }).catch(() => undefined);
      const device = await link?.control.get();
      if (link && device && device.peers.length > 0) {
        await link.control.set({ peers: device.peers.map((p) => ({ publicKey: p.publicKey, remove: true })) });
        writes++;
        logger.info({ peers: device.peers.length }, 'removed WireGuard peers a standby must not hold');
      }
      writes += await new OwnedRoutes(runner, ns, 'wireguard').removeAll();
    }
    if (this.#o.ipsec) {
      const driver = this.#o.cables.driver('ipsec');
      if (driver instanceof IpsecDriver) writes += await driver.releaseUnheld();
    }
    return writes;
  }
}
