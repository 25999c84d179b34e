import { join } from 'node:path';
import {
  ensureWireGuardLink,
  findWireGuardLink,
  isValidKey,
  keyFingerprint,
  publicKeyFromPrivate,
  removeWireGuardLink,
  tunnelMtu,
  WIREGUARD_IMPLEMENTATIONS,
  type WgDeviceState,
  type WgPeerConfig,
  type WgPeerState,
  type WireGuardImplementation,
  type WireGuardImplementationChoice,
  type WireGuardLink,
  type WireGuardLinkOptions,
} from '@strait/net';
import { Gauge } from 'prom-client';
import { ensureDir, formatEndpoint, resolveContext, underlayMtu, type GatewayContext, type ResolvedContext } from '../context.ts';
import { applyHealth } from '../health/verdict.ts';
import { TunnelMss } from '../tunnel-mss.ts';
import { OwnedRoutes } from '../routes.ts';
import { parsePrefix } from '../cidr.ts';
import { CableDriverBase, type ConnectItem, type ConnectOutcome, type PeerRecord } from '../driver-base.ts';
import { DriverConfigError, DriverError, type ConnectionState, type ConnectionStatus, type PeerSpec, type WireGuardPeerConfig } from '../types.ts';
import { assertNoOverlap, checkPort, normalizePeer, type NormalizedPeer } from '../validate.ts';

export interface WireGuardDriverConfig {
  /** This cluster's private key, base64 (from the cluster's Secret; never generated here). */
  readonly privateKey: string;
  /** Default `strait-wg0`. */
  readonly ifname?: string;
  /** Default 51820. */
  readonly listenPort?: number;
  /** `auto` (kernel, else wireguard-go, else boringtun) or a forced implementation. */
  readonly implementation?: WireGuardImplementationChoice;
  /** Link MTU; default underlay MTU − 80. */
  readonly mtu?: number;
  /** Without any handshake for this long after connect(), a peer is Error instead of Connecting (default 30 s). */
  readonly handshakeTimeoutMs?: number;
  /** A handshake older than this is Error (default 180 s: WireGuard rekeys every 120 s while traffic flows). */
  readonly staleHandshakeMs?: number;
  /** Userspace binaries (default: from PATH). */
  readonly binaries?: WireGuardLinkOptions['binaries'];
  /**
   * Directory of the userspace daemon's UAPI socket, pid file and log. Default `<stateDir>/wireguard`
   * (private: the daemon gets it bind-mounted on /run/wireguard in its own mount namespace). Setting
   * `/var/run/wireguard` runs the daemon without that mount namespace, so `wg show` sees the interface — only
   * when one gateway per machine uses this interface name.
   */
  readonly socketDir?: string;
}

export const DEFAULT_WG_PORT = 51820;
export const DEFAULT_KEEPALIVE = 25;
export const WG_LINK_OWNER_ALIAS = 'strait:cable-wireguard';

interface WgPeer extends PeerRecord {
  readonly publicKey: string;
  readonly keepalive: number;
  readonly presharedKey: string | undefined;
  /** When the peer was last re-keyed by {@link WireGuardDriver.repair}. */
  repairedAt: number;
  /** Byte counters at the last status() and when rx last moved, to spot a one-way tunnel. */
  rxSeen: { rx: number; tx: number; rxChangedAt: number } | undefined;
}

/**
 * The WireGuard cable driver: one link per gateway (`strait-wg0`), one WireGuard peer per remote cluster,
 * allowed IPs = the remote cluster's subnets, routes for them into the link.
 */
/** What connecting one peer writes: its WireGuard changes and routes. */
interface PeerPlan {
  readonly changes: WgPeerConfig[];
  readonly wantIps: string[];
  readonly staleIps: string[];
  readonly endpoint: string;
  readonly created: boolean;
  readonly deferKeepalive: boolean;
}

interface Prepared {
  readonly norm: NormalizedPeer<'wireguard'>;
  readonly cfg: WireGuardPeerConfig;
  readonly keepalive: number;
}

export class WireGuardDriver extends CableDriverBase<WgPeer, Prepared> {
  readonly backend = 'wireguard' as const;
  private readonly config: Required<Omit<WireGuardDriverConfig, 'mtu' | 'binaries' | 'socketDir'>> & Pick<WireGuardDriverConfig, 'mtu' | 'binaries'> & { socketDir: string };
  private readonly publicKey: string;
  private readonly routes: OwnedRoutes;
  private readonly mss: TunnelMss;
  private link: WireGuardLink | undefined;
  private mtu = 0;
  private readonly implGauge: Gauge<'impl'> | undefined;

  constructor(gateway: GatewayContext, config: WireGuardDriverConfig) {
    const ctx = resolveContext('wireguard', gateway);
    super(ctx);
    if (!config || typeof config !== 'object') throw new DriverConfigError('wireguard', 'config', 'missing driver configuration');
    if (!isValidKey(config.privateKey)) throw new DriverConfigError('wireguard', 'privateKey', 'not a WireGuard private key (32 bytes, base64)');
    const ifname = config.ifname ?? 'strait-wg0';
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(ifname)) throw new DriverConfigError('wireguard', 'ifname', `'${ifname}' is not an interface name (1-15 characters)`);
    const implementation = config.implementation ?? 'auto';
    if (implementation !== 'auto' && !(WIREGUARD_IMPLEMENTATIONS as readonly string[]).includes(implementation)) {
      throw new DriverConfigError('wireguard', 'implementation', `'${String(implementation)}' is not one of auto, ${WIREGUARD_IMPLEMENTATIONS.join(', ')}`);
    }
    this.config = {
      privateKey: config.privateKey,
      ifname,
      listenPort: config.listenPort === undefined ? DEFAULT_WG_PORT : checkPort('wireguard', 'listenPort', config.listenPort),
      implementation,
      handshakeTimeoutMs: config.handshakeTimeoutMs ?? 30_000,
      staleHandshakeMs: config.staleHandshakeMs ?? 180_000,
      mtu: config.mtu,
      binaries: config.binaries,
      socketDir: config.socketDir ?? join(ctx.stateDir, 'wireguard'),
    };
    if (!this.config.socketDir.startsWith('/')) throw new DriverConfigError('wireguard', 'socketDir', 'must be an absolute path');
    this.publicKey = publicKeyFromPrivate(config.privateKey, 'privateKey');
    this.routes = new OwnedRoutes(ctx.runner, ctx.netns, 'wireguard');
    this.mss = new TunnelMss(ctx.runner, ctx.netns, 'wireguard');
    this.implGauge = ctx.metrics ? implementationGauge(ctx) : undefined;
  }

  /** This gateway's public key (what the local Endpoint advertises). */
  get localPublicKey(): string {
    return this.publicKey;
  }

  get implementation(): WireGuardImplementation | undefined {
    return this.link?.implementation;
  }

  get ifname(): string {
    return this.config.ifname;
  }

  private linkOptions(): WireGuardLinkOptions {
    return {
      ifname: this.config.ifname,
      netns: this.ctx.netns,
      runner: this.ctx.runner,
      implementation: this.config.implementation,
      runDir: this.config.socketDir,
      alias: WG_LINK_OWNER_ALIAS,
      binaries: this.config.binaries,
      initialConfig: { privateKey: this.config.privateKey, listenPort: this.config.listenPort },
    };
  }

  protected async doInit(): Promise<void> {
    ensureDir(this.config.socketDir);
    this.mtu = this.config.mtu ?? tunnelMtu(await underlayMtu(this.ctx), 'wireguard');
    const link = await ensureWireGuardLink(this.linkOptions());
    this.link = link;
    this.ctx.logger.info({ ifname: link.ifname, implementation: link.implementation, adopted: link.adopted, ifindex: link.ifindex }, 'wireguard link ready');
    if (this.implGauge) {
      this.implGauge.reset();
      this.implGauge.set({ impl: link.implementation }, 1);
    }
    const state = await link.control.get();
    const update: { privateKey?: string; listenPort?: number } = {};
    if (state.publicKey !== this.publicKey) update.privateKey = this.config.privateKey;
    if (state.listenPort !== this.config.listenPort) update.listenPort = this.config.listenPort;
    if (Object.keys(update).length > 0) await link.control.set(update);
    await this.ensureMtu();
    await this.mss.apply([this.config.ifname], this.mtu);
  }

  private async ensureMtu(): Promise<void> {
    const { stdout } = await this.ctx.runner.run('ip', ['-j', 'link', 'show', 'dev', this.config.ifname], this.nsOpts());
    const cur = (JSON.parse(stdout) as { mtu: number }[])[0]?.mtu;
    if (cur !== this.mtu) await this.ctx.runner.run('ip', ['link', 'set', 'dev', this.config.ifname, 'mtu', String(this.mtu)], this.nsOpts());
  }

  private nsOpts() {
    return this.ctx.netns ? { netns: this.ctx.netns } : {};
  }

  private control() {
    if (!this.link) throw new DriverError('wireguard', 'not initialised: call init() first');
    return this.link.control;
  }

  protected prepare(spec: PeerSpec): Prepared {
    const norm = normalizePeer('wireguard', spec, DEFAULT_WG_PORT);
    const cfg = norm.spec.backendConfig as WireGuardPeerConfig;
    if (!isValidKey(cfg.publicKey)) throw new DriverConfigError('wireguard', 'backendConfig.publicKey', 'not a WireGuard public key (32 bytes, base64)');
    if (cfg.publicKey === this.publicKey) throw new DriverConfigError('wireguard', 'backendConfig.publicKey', "is this gateway's own public key");
    if (cfg.presharedKey !== undefined && !isValidKey(cfg.presharedKey)) {
      throw new DriverConfigError('wireguard', 'backendConfig.presharedKey', 'not a WireGuard pre-shared key (32 bytes, base64)');
    }
    const keepalive = cfg.persistentKeepalive ?? DEFAULT_KEEPALIVE;
    if (!Number.isInteger(keepalive) || keepalive < 0 || keepalive > 65535) {
      throw new DriverConfigError('wireguard', 'backendConfig.persistentKeepalive', `${keepalive} is not a number of seconds (0-65535)`);
    }
    for (const [id, other] of this.peers) {
      if (id !== norm.clusterId && other.publicKey === cfg.publicKey) {
        throw new DriverConfigError('wireguard', 'backendConfig.publicKey', `already used by peer ${id}`);
      }
    }
    assertNoOverlap('wireguard', norm, [...this.peers.values()].map((p) => ({ clusterId: p.norm.clusterId, remoteSubnets: p.norm.remoteSubnets })));
    return { norm, cfg, keepalive };
  }

  protected async doConnect(prepared: Prepared): Promise<ConnectionStatus> {
    const [outcome] = await this.doConnectMany([{ spec: prepared.norm.spec, prepared }]);
    if (outcome && 'status' in outcome) return outcome.status;
    throw outcome ? outcome.error : new DriverError('wireguard', 'no outcome');
  }

  /**
   * Many peers with one device read, one `set` of every changed peer (one UAPI request / `wg set`), one
   * routes listing and one `ip -batch`, and one device read for the statuses: the cost of a batch barely
   * grows with its size. Each item is checked against the connected peers, the device's unclaimed peers
   * and the items before it (a failing item is left out, the others go on).
   */
  protected override async doConnectMany(items: readonly ConnectItem<Prepared>[]): Promise<ConnectOutcome[]> {
    const control = this.control();
    const device = await control.get();
    const outcomes: (ConnectOutcome | undefined)[] = items.map(() => undefined);
    // Overlap check against the peers this instance knows, against peers found on the device that no
    // known cluster claims (adopted state) and against the batch's earlier items: all before the first write.
    const known = new Set([...this.peers.values()].map((p) => p.publicKey));
    const others = [
      ...[...this.peers.values()].map((p) => ({ clusterId: p.norm.clusterId, remoteSubnets: p.norm.remoteSubnets })),
      ...device.peers
        .filter((p) => !known.has(p.publicKey))
        .map((p) => ({ publicKey: p.publicKey, clusterId: `(unclaimed WireGuard peer ${p.publicKey.slice(0, 8)}…)`, remoteSubnets: prefixesOf(p.allowedIps) })),
    ];
    const batchKeys = new Map<string, string>();
    const accepted: { i: number; p: Prepared; plan: PeerPlan }[] = [];
    for (const [i, { prepared }] of items.entries()) {
      const { norm, cfg } = prepared;
      try {
        const dupe = batchKeys.get(cfg.publicKey);
        if (dupe !== undefined) throw new DriverConfigError('wireguard', 'backendConfig.publicKey', `already used by peer ${dupe}`);
        assertNoOverlap(
          'wireguard',
          norm,
          others.filter((o) => !('publicKey' in o) || o.publicKey !== cfg.publicKey),
        );
        batchKeys.set(cfg.publicKey, norm.clusterId);
        others.push({ clusterId: norm.clusterId, remoteSubnets: norm.remoteSubnets });
        accepted.push({ i, p: prepared, plan: this.planPeer(prepared, device) });
      } catch (error) {
        outcomes[i] = { error };
      }
    }
    if (accepted.length > 0) {
      const changes = accepted.flatMap((a) => a.plan.changes);
      if (changes.length > 0) {
        await control.set({ peers: changes });
        for (const { p, plan } of accepted) {
          if (plan.changes.length > 0) this.ctx.logger.info({ peer: p.norm.clusterId, endpoint: plan.endpoint, allowedIps: plan.wantIps, created: plan.created }, 'wireguard peer configured');
        }
      }
      // Routes: the peers' subnets into the link; drop the ones they no longer have.
      await this.routes.apply(
        accepted.flatMap((a) => a.plan.staleIps),
        accepted.flatMap(({ p, plan }) => plan.wantIps.map((dst) => ({ dst, dev: this.config.ifname, src: srcFor(p.norm, dst) }))),
      );
      const records = accepted.map(({ p, plan }) => this.commitPeer(p, plan.deferKeepalive));
      const after = await control.get();
      accepted.forEach(({ i }, k) => (outcomes[i] = { status: this.statusOf(records[k]!, after) }));
    }
    return outcomes.map((o) => o ?? { error: new DriverError('wireguard', 'peer not handled') });
  }

  /** What connecting one peer changes on the device (pure: nothing is written). */
  private planPeer({ norm, cfg, keepalive }: Prepared, device: WgDeviceState): PeerPlan {
    const previous = this.peers.get(norm.clusterId);
    const wantIps = norm.remoteSubnets.map((p) => p.text).sort();
    const endpoint = formatEndpoint(norm.endpointIp, norm.endpointPort);
    const current = device.peers.find((p) => p.publicKey === cfg.publicKey);
    const changes: WgPeerConfig[] = [];
    if (previous && previous.publicKey !== cfg.publicKey) changes.push({ publicKey: previous.publicKey, remove: true });
    const peerChange = diffPeer(current, { publicKey: cfg.publicKey, endpoint, allowedIps: wantIps, keepalive, presharedKey: cfg.presharedKey });
    // Gateways usually configure each other at the same moment. Setting a keepalive makes WireGuard send at
    // once, so both would initiate simultaneously, and crossing initiations can leave both sides rejecting
    // each other's responses for several retry rounds (or end with one side sending on a session the other
    // discarded). So when the peer is new, only the side with the smaller public key starts at once; the
    // other answers and turns its keepalive on a second later.
    const deferKeepalive = !current && keepalive > 0 && this.publicKey > cfg.publicKey;
    if (peerChange && deferKeepalive) delete (peerChange as { persistentKeepalive?: number }).persistentKeepalive;
    if (peerChange) changes.push(peerChange);
    const oldIps = new Set([...(current?.allowedIps ?? []), ...(previous?.norm.remoteSubnets.map((p) => p.text) ?? [])].map((c) => prefixesOf([c])[0]?.text ?? c));
    for (const ip of wantIps) oldIps.delete(ip);
    return { changes, wantIps, endpoint, created: !current, deferKeepalive, staleIps: [...oldIps] };
  }

  /** Records a configured peer: its keepalive (deferred or not), its health prober and repair hook. */
  private commitPeer({ norm, cfg, keepalive }: Prepared, deferKeepalive: boolean): WgPeer {
    const previous = this.peers.get(norm.clusterId);
    const record: WgPeer = {
      norm,
      publicKey: cfg.publicKey,
      keepalive,
      presharedKey: cfg.presharedKey,
      repairedAt: previous?.repairedAt ?? 0,
      connectedAt: previous && previous.publicKey === cfg.publicKey ? previous.connectedAt : Date.now(),
      prober: this.proberFor(previous, norm),
      rxSeen: previous?.rxSeen,
    };
    this.peers.set(norm.clusterId, record);
    if (deferKeepalive) {
      const timer = setTimeout(() => {
        this.serial(async () => {
          if (this.peers.get(norm.clusterId) !== record || !this.link) return;
          await this.link.control.set({ peers: [{ publicKey: record.publicKey, updateOnly: true, persistentKeepalive: keepalive }] });
        }).catch((err: unknown) => this.ctx.logger.warn({ peer: norm.clusterId, err: (err as Error).message }, 'wireguard keepalive not set'));
      }, 1_000);
      timer.unref();
    }
    if (record.prober) {
      // Every `failAfter` consecutive losses: if the peer received nothing since the previous check, repair.
      let lastRx: number | undefined;
      record.prober.onLoss = (lost) => {
        if (lost === 1) lastRx = undefined;
        if (lost % this.ctx.health.failAfter !== 0) return;
        const before = lastRx;
        this.serial(async () => {
          const rx = (await this.link?.control.get())?.peers.find((p) => p.publicKey === record.publicKey)?.rxBytes;
          lastRx = rx;
          if (before !== undefined && rx === before) await this.repair(norm.clusterId);
        }).catch((err: unknown) => this.ctx.logger.warn({ peer: norm.clusterId, err: (err as Error).message }, 'wireguard repair failed'));
      };
    }
    return record;
  }

  /**
   * Heals a tunnel that handshook but carries traffic one way only. When both gateways initiate at the same
   * moment (both configure each other at once), each side can end up sending with a session the other side
   * already discarded; WireGuard itself only notices after 15 s without a reply. The health probe notices
   * sooner: with a fresh handshake, probes lost in a row and nothing received from the peer over the last
   * `failAfter` of them, the peer is removed and re-added
   * (same configuration), which drops its sessions and makes this side start a new handshake at once.
   * At most once per 10 s per peer, and only while a handshake is recent (a dead peer is not churned).
   */
  private async repair(clusterId: string): Promise<void> {
    const peer = this.peers.get(clusterId);
    if (!peer || !this.link || Date.now() - peer.repairedAt < 10_000) return;
    const state = (await this.link.control.get()).peers.find((p) => p.publicKey === peer.publicKey);
    const hs = state?.lastHandshake?.getTime();
    if (!state || !hs || Date.now() - hs > this.config.staleHandshakeMs) return;
    peer.repairedAt = Date.now();
    await this.link.control.set({
      peers: [
        { publicKey: peer.publicKey, remove: true },
        {
          publicKey: peer.publicKey,
          endpoint: formatEndpoint(peer.norm.endpointIp, peer.norm.endpointPort),
          persistentKeepalive: peer.keepalive,
          replaceAllowedIps: true,
          allowedIps: peer.norm.remoteSubnets.map((p) => p.text).sort(),
          ...(peer.presharedKey ? { presharedKey: peer.presharedKey } : {}),
        },
      ],
    });
    this.ctx.logger.warn({ peer: clusterId }, 'wireguard tunnel carried no replies after a handshake: peer re-keyed');
  }

  protected async doDisconnect(peer: WgPeer): Promise<void> {
    const control = this.control();
    const device = await control.get();
    const current = device.peers.find((p) => p.publicKey === peer.publicKey);
    if (current) await control.set({ peers: [{ publicKey: peer.publicKey, remove: true }] });
    await this.routes.remove([...new Set([...peer.norm.remoteSubnets.map((p) => p.text), ...prefixesOf(current?.allowedIps ?? []).map((p) => p.text)])]);
    this.ctx.logger.info({ peer: peer.norm.clusterId }, 'wireguard peer removed');
  }

  protected async doStatuses(peers: readonly WgPeer[]): Promise<ConnectionStatus[]> {
    const device = await this.control().get();
    return peers.map((p) => this.statusOf(p, device));
  }

  private statusOf(peer: WgPeer, device: WgDeviceState): ConnectionStatus {
    const state = device.peers.find((p) => p.publicKey === peer.publicKey);
    const now = Date.now();
    let verdict: { state: ConnectionState; message: string };
    if (!state) {
      verdict = { state: 'Error', message: `peer ${peer.publicKey.slice(0, 8)}… is missing from ${this.config.ifname}` };
    } else {
      verdict = this.tunnelVerdict(peer, state, now);
    }
    verdict = applyHealth(verdict, peer.prober, peer.norm.spec.healthCheck?.remoteIp, this.ctx.health.failAfter);
    return {
      clusterId: peer.norm.clusterId,
      backend: 'wireguard',
      state: verdict.state,
      message: verdict.message,
      interface: this.config.ifname,
      endpoint: formatEndpoint(peer.norm.endpointIp, peer.norm.endpointPort),
      rxBytes: state?.rxBytes ?? 0,
      txBytes: state?.txBytes ?? 0,
      lastHandshake: state?.lastHandshake?.toISOString(),
      rtt: peer.prober?.stats(),
    };
  }

  private tunnelVerdict(peer: WgPeer, state: WgPeerState, now: number): { state: ConnectionState; message: string } {
    // Byte counters: remember when rx last moved.
    const seen = peer.rxSeen;
    if (!seen || state.rxBytes !== seen.rx || state.rxBytes < seen.rx) peer.rxSeen = { rx: state.rxBytes, tx: state.txBytes, rxChangedAt: now };
    else peer.rxSeen = { ...seen, tx: state.txBytes };
    const hs = state.lastHandshake?.getTime();
    if (!hs) {
      const waited = now - peer.connectedAt;
      if (waited < this.config.handshakeTimeoutMs) return { state: 'Connecting', message: 'waiting for the first handshake' };
      return { state: 'Error', message: `no handshake with ${formatEndpoint(peer.norm.endpointIp, peer.norm.endpointPort)} after ${Math.round(waited / 1000)} s` };
    }
    const age = now - hs;
    if (age > this.config.staleHandshakeMs) return { state: 'Error', message: `last handshake ${Math.round(age / 1000)} s ago` };
    // A tunnel that sends but has received nothing for several keepalive periods is one-way.
    const quietFor = now - peer.rxSeen!.rxChangedAt;
    const stallAfter = Math.max(3 * peer.keepalive * 1000, 75_000);
    if (peer.keepalive > 0 && seen && state.txBytes > seen.tx && quietFor > stallAfter) {
      return { state: 'Error', message: `sending but nothing received for ${Math.round(quietFor / 1000)} s` };
    }
    return { state: 'Connected', message: `handshake ${Math.max(0, Math.round(age / 1000))} s ago` };
  }

  protected async doCleanup(): Promise<void> {
    const opts = this.linkOptions();
    // Only Strait's link is removed (findWireGuardLink refuses a foreign one).
    const existing = await findWireGuardLink(opts).catch((err: unknown) => {
      this.ctx.logger.warn({ err: (err as Error).message }, 'wireguard cleanup: link not removed');
      return undefined;
    });
    if (existing) await removeWireGuardLink(opts);
    await this.routes.removeAll();
    await this.mss.remove();
    this.link = undefined;
    this.implGauge?.reset();
  }
}

function prefixesOf(cidrs: readonly string[]) {
  return cidrs.map((c) => parsePrefix(c, true)).filter((p): p is NonNullable<typeof p> => p !== undefined);
}

/**
 * Preferred source for traffic the gateway itself sends into the tunnel: its address inside the local
 * subnets (the health check's local IP), so replies come back through the tunnel too.
 */
function srcFor(norm: NormalizedPeer, _dst: string): string | undefined {
  return norm.spec.healthCheck?.localIp;
}

function diffPeer(
  current: WgPeerState | undefined,
  want: { publicKey: string; endpoint: string; allowedIps: string[]; keepalive: number; presharedKey: string | undefined },
): WgPeerConfig | undefined {
  const change: { -readonly [K in keyof WgPeerConfig]: WgPeerConfig[K] } = { publicKey: want.publicKey };
  let changed = !current;
  if (!current || current.endpoint !== want.endpoint) {
    change.endpoint = want.endpoint;
    changed = true;
  }
  const curIps = [...(current?.allowedIps ?? [])].map((c) => parsePrefix(c, true)?.text ?? c).sort();
  if (!current || curIps.join(',') !== want.allowedIps.join(',')) {
    change.replaceAllowedIps = true;
    change.allowedIps = want.allowedIps;
    changed = true;
  }
  if (!current || current.persistentKeepalive !== want.keepalive) {
    change.persistentKeepalive = want.keepalive;
    changed = true;
  }
  const wantFp = want.presharedKey ? keyFingerprint(want.presharedKey) : undefined;
  if ((current?.presharedKeyFingerprint ?? undefined) !== wantFp) {
    change.presharedKey = want.presharedKey ?? null;
    changed = true;
  }
  return changed ? change : undefined;
}

function implementationGauge(ctx: ResolvedContext): Gauge<'impl'> {
  const name = 'strait_wireguard_implementation';
  const existing = ctx.metrics!.getSingleMetric(name);
  if (existing) return existing as Gauge<'impl'>;
  return new Gauge({ name, help: 'WireGuard implementation in use on this gateway (1 for the active one)', labelNames: ['impl'], registers: [ctx.metrics!] });
}
