import { createHash } from 'node:crypto';
import { NetCommandError, tunnelMtu } from '@strait/net';
import { formatEndpoint, resolveContext, underlayMtu, type GatewayContext } from '../context.ts';
import { CableDriverBase, type PeerRecord } from '../driver-base.ts';
import { applyHealth } from '../health/verdict.ts';
import { OwnedRoutes } from '../routes.ts';
import { TunnelMss } from '../tunnel-mss.ts';
import { DriverConfigError, type ConnectionState, type ConnectionStatus, type PeerSpec, type VxlanPeerConfig } from '../types.ts';
import { assertNoOverlap, checkPort, normalizePeer, type NormalizedPeer } from '../validate.ts';

export interface VxlanDriverConfig {
  /** UDP port (default 4789), the same on both gateways. */
  readonly port?: number;
  /** Link MTU; default underlay MTU − 50. */
  readonly mtu?: number;
}

export const VXLAN_LINK_ALIAS = 'strait:cable-vxlan';
/**
 * The next hop used on every VXLAN link. It exists nowhere: a permanent neighbour entry maps it to the
 * remote gateway's VXLAN MAC, so frames are addressed to the remote link and it accepts them as its own.
 */
export const VXLAN_NEXT_HOP = '169.254.42.1';

/**
 * The MAC of a cluster's end of a VXLAN link: locally administered, derived from the cluster id and VNI so
 * that each side knows the other's without exchanging it (and never the same on both ends, which VXLAN
 * would drop as a loop).
 */
export function vxlanMac(clusterId: string, vni: number): string {
  const h = createHash('sha256').update(`${clusterId}/${vni}`).digest();
  const bytes = [0x02, h[0]!, h[1]!, h[2]!, h[3]!, h[4]!];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function vxlanIfname(vni: number): string {
  return `svx${vni}`;
}

interface VxlanPeer extends PeerRecord {
  readonly vni: number;
  readonly ifname: string;
}

interface Prepared {
  readonly norm: NormalizedPeer<'vxlan'>;
  readonly vni: number;
}

interface LinkJson {
  ifname: string;
  ifindex: number;
  ifalias?: string;
  address?: string;
  mtu: number;
  flags?: string[];
  linkinfo?: { info_kind?: string; info_data?: { id?: number; remote?: string; local?: string; port?: number } };
  stats64?: { rx?: { bytes?: number }; tx?: { bytes?: number } };
}

/**
 * The VXLAN cable driver: an unencrypted point-to-point VXLAN link per peer (`svx<vni>`), for trusted
 * underlays only. Layer 3 over it without ARP or addresses: routes to the remote subnets go via a fictional
 * next hop whose permanent neighbour entry is the remote end's derived MAC.
 */
export class VxlanDriver extends CableDriverBase<VxlanPeer, Prepared> {
  readonly backend = 'vxlan' as const;
  private readonly port: number;
  private readonly configuredMtu: number | undefined;
  private readonly routes: OwnedRoutes;
  private readonly mss: TunnelMss;
  private mtu = 0;

  constructor(gateway: GatewayContext, config: VxlanDriverConfig = {}) {
    const ctx = resolveContext('vxlan', gateway);
    super(ctx);
    this.port = config.port === undefined ? 4789 : checkPort('vxlan', 'port', config.port);
    if (config.mtu !== undefined && (!Number.isInteger(config.mtu) || config.mtu < 1280 || config.mtu > 65535)) {
      throw new DriverConfigError('vxlan', 'mtu', `${config.mtu} is not an MTU (1280-65535)`);
    }
    this.configuredMtu = config.mtu;
    this.routes = new OwnedRoutes(ctx.runner, ctx.netns, 'vxlan');
    this.mss = new TunnelMss(ctx.runner, ctx.netns, 'vxlan');
  }

  private nsOpts() {
    return this.ctx.netns ? { netns: this.ctx.netns } : {};
  }

  private async ip(args: string[]): Promise<string> {
    return (await this.ctx.runner.run('ip', args, this.nsOpts())).stdout;
  }

  private async showLink(ifname: string): Promise<LinkJson | undefined> {
    try {
      return (JSON.parse(await this.ip(['-d', '-s', '-j', 'link', 'show', 'dev', ifname])) as LinkJson[])[0];
    } catch (err) {
      if (err instanceof NetCommandError && /does not exist|Cannot find device/.test(err.stderr)) return undefined;
      throw err;
    }
  }

  private async ownedLinks(): Promise<LinkJson[]> {
    const links = JSON.parse((await this.ip(['-d', '-j', 'link', 'show', 'type', 'vxlan'])) || '[]') as LinkJson[];
    return links.filter((l) => l.ifalias === VXLAN_LINK_ALIAS);
  }

  protected async doInit(): Promise<void> {
    this.mtu = this.configuredMtu ?? tunnelMtu(await underlayMtu(this.ctx), 'vxlan', { underlay: this.ctx.localIp.includes(':') ? 6 : 4 });
    const links = await this.ownedLinks();
    await this.mss.apply(links.map((l) => l.ifname), this.mtu);
  }

  protected prepare(spec: PeerSpec): Prepared {
    const norm = normalizePeer('vxlan', spec, this.port);
    const cfg = norm.spec.backendConfig as VxlanPeerConfig;
    if (!Number.isInteger(cfg.vni) || cfg.vni < 1 || cfg.vni > 16_777_215) throw new DriverConfigError('vxlan', 'backendConfig.vni', `${JSON.stringify(cfg.vni)} is not a VNI (1-16777215)`);
    if (norm.endpointPort !== this.port) {
      throw new DriverConfigError('vxlan', 'endpoint.port', `${norm.endpointPort} differs from this gateway's VXLAN port ${this.port} (both ends use one port)`);
    }
    if (norm.endpointIp.includes(':') !== this.ctx.localIp.includes(':')) throw new DriverConfigError('vxlan', 'endpoint.ip', 'address family differs from the local underlay address');
    for (const [id, p] of this.peers) {
      if (id !== norm.clusterId && p.vni === cfg.vni) throw new DriverConfigError('vxlan', 'backendConfig.vni', `${cfg.vni} is already used by peer ${id}`);
    }
    assertNoOverlap('vxlan', norm, this.peerSubnets());
    return { norm, vni: cfg.vni };
  }

  protected async doConnect({ norm, vni }: Prepared): Promise<ConnectionStatus> {
    const ifname = vxlanIfname(vni);
    const previous = this.peers.get(norm.clusterId);
    const localMac = vxlanMac(this.ctx.clusterId, vni);
    const remoteMac = vxlanMac(norm.clusterId, vni);

    let link = await this.showLink(ifname);
    if (link && link.ifalias !== VXLAN_LINK_ALIAS) {
      throw new DriverConfigError('vxlan', 'backendConfig.vni', `interface ${ifname} exists and is not Strait's; refusing to touch it`);
    }
    const info = link?.linkinfo?.info_data;
    const matches = link && link.linkinfo?.info_kind === 'vxlan' && info?.id === vni && info.remote === norm.endpointIp && info.local === this.ctx.localIp && info.port === this.port;
    if (link && !matches) {
      await this.ip(['link', 'del', 'dev', ifname]);
      link = undefined;
    }
    if (previous && previous.ifname !== ifname) await this.removeLink(previous.ifname);
    if (!link) {
      await this.ip(['link', 'add', ifname, 'address', localMac, 'mtu', String(this.mtu), 'type', 'vxlan', 'id', String(vni), 'local', this.ctx.localIp, 'remote', norm.endpointIp, 'dstport', String(this.port), 'nolearning']);
      try {
        await this.ip(['link', 'set', 'dev', ifname, 'alias', VXLAN_LINK_ALIAS]);
        await this.ip(['link', 'set', 'dev', ifname, 'up']);
      } catch (err) {
        await this.ip(['link', 'del', 'dev', ifname]).catch(() => undefined);
        throw err;
      }
      this.ctx.logger.info({ peer: norm.clusterId, ifname, vni, remote: norm.endpointIp }, 'vxlan link created');
    } else {
      if (link.address !== localMac) await this.ip(['link', 'set', 'dev', ifname, 'address', localMac]);
      if (link.mtu !== this.mtu) await this.ip(['link', 'set', 'dev', ifname, 'mtu', String(this.mtu)]);
      if (!link.flags?.includes('UP')) await this.ip(['link', 'set', 'dev', ifname, 'up']);
    }

    const neigh = JSON.parse((await this.ip(['-j', 'neigh', 'show', 'dev', ifname, VXLAN_NEXT_HOP])) || '[]') as { lladdr?: string; state?: string[] }[];
    if (neigh[0]?.lladdr !== remoteMac || !neigh[0]?.state?.includes('PERMANENT')) {
      await this.ip(['neigh', 'replace', VXLAN_NEXT_HOP, 'lladdr', remoteMac, 'dev', ifname, 'nud', 'permanent']);
    }

    const want = norm.remoteSubnets.map((p) => p.text);
    const stale = (await this.routes.list()).filter((r) => r.dev === ifname && !want.includes(r.dst)).map((r) => r.dst);
    await this.routes.remove(stale);
    await this.routes.ensure(want.map((dst) => ({ dst, dev: ifname, via: VXLAN_NEXT_HOP, onlink: true, src: norm.spec.healthCheck?.localIp })));

    const record: VxlanPeer = { norm, vni, ifname, connectedAt: previous?.connectedAt ?? Date.now(), prober: this.proberFor(previous, norm) };
    this.peers.set(norm.clusterId, record);
    await this.mss.apply([...this.peers.values()].map((p) => p.ifname), this.mtu);
    return (await this.doStatuses([record]))[0]!;
  }

  private async removeLink(ifname: string): Promise<void> {
    const link = await this.showLink(ifname);
    if (link?.ifalias === VXLAN_LINK_ALIAS) await this.ip(['link', 'del', 'dev', ifname]);
  }

  protected async doDisconnect(peer: VxlanPeer): Promise<void> {
    await this.routes.remove(peer.norm.remoteSubnets.map((p) => p.text));
    await this.removeLink(peer.ifname);
    const rest = [...this.peers.values()].filter((p) => p !== peer).map((p) => p.ifname);
    await this.mss.apply(rest, this.mtu);
    this.ctx.logger.info({ peer: peer.norm.clusterId, ifname: peer.ifname }, 'vxlan peer removed');
  }

  protected async doStatuses(peers: readonly VxlanPeer[]): Promise<ConnectionStatus[]> {
    const out: ConnectionStatus[] = [];
    for (const peer of peers) {
      const link = await this.showLink(peer.ifname);
      let verdict: { state: ConnectionState; message: string };
      if (!link) verdict = { state: 'Error', message: `link ${peer.ifname} is missing` };
      else if (!link.flags?.includes('UP')) verdict = { state: 'Error', message: `link ${peer.ifname} is down` };
      else verdict = { state: 'Connected', message: `link ${peer.ifname} up (VXLAN has no handshake; health probes tell reachability)` };
      verdict = applyHealth(verdict, peer.prober, peer.norm.spec.healthCheck?.remoteIp, this.ctx.health.failAfter);
      out.push({
        clusterId: peer.norm.clusterId,
        backend: 'vxlan',
        state: verdict.state,
        message: verdict.message,
        interface: peer.ifname,
        endpoint: formatEndpoint(peer.norm.endpointIp, peer.norm.endpointPort),
        rxBytes: link?.stats64?.rx?.bytes ?? 0,
        txBytes: link?.stats64?.tx?.bytes ?? 0,
        lastHandshake: undefined,
        rtt: peer.prober?.stats(),
      });
    }
    return out;
  }

  protected async doCleanup(): Promise<void> {
    await this.routes.removeAll();
    for (const link of await this.ownedLinks()) await this.ip(['link', 'del', 'dev', link.ifname]);
    await this.mss.remove();
  }
}
