import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Charon, tunnelMtu, ViciClient, ViciCommandError, type IpsecKernelBackend, type ViciPort, type ViciSubscription } from '@strait/net';
import { prefixContains } from '../cidr.ts';
import { ensureDir, formatEndpoint, resolveContext, underlayMtu, type GatewayContext } from '../context.ts';
import { CableDriverBase, type PeerRecord } from '../driver-base.ts';
import { applyHealth } from '../health/verdict.ts';
import { OwnedRoutes } from '../routes.ts';
import { TunnelMss } from '../tunnel-mss.ts';
import { DriverConfigError, DriverError, type ConnectionState, type ConnectionStatus, type IpsecPeerConfig, type PeerSpec } from '../types.ts';
import { assertNoOverlap, checkPort, normalizePeer, type NormalizedPeer } from '../validate.ts';
import { CONN_PREFIX, SECRET_PREFIX, connConfig, connName, secretId } from './conn-config.ts';
import { summariseSas } from './sa-state.ts';

/** The charon this driver talks to: supervised per gateway (default) or one that runs already. */
export interface CharonHandle {
  start(): Promise<{ adopted: boolean; pid: number }>;
  /** The pid of this gateway's charon when one runs (without starting one). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
  vici(): ViciPort;
}

export interface IpsecDriverConfig {
  /** `libipsec` (userspace ESP over the `ipsec0` TUN: no kernel ESP needed) or `netlink` (kernel XFRM). */
  readonly kernelBackend?: IpsecKernelBackend;
  /** IKE port of this gateway's charon (default 500); NAT-T port (default 4500). */
  readonly ikePort?: number;
  readonly natTPort?: number;
  /** IKE identity of this gateway; default the local cluster id. */
  readonly localId?: string;
  /** Use an already running charon at this VICI socket instead of supervising one. */
  readonly viciSocket?: string;
  /** Path of the charon binary (supervised mode). */
  readonly charonBinary?: string;
  /** How long connect() waits for the IKE/CHILD_SA (default 3 s; it keeps trying in the background). */
  readonly initiateTimeoutMs?: number;
  /** Without an established SA for this long after connect(), a peer is Error (default 30 s). */
  readonly connectTimeoutMs?: number;
  /** Tunnel MTU (libipsec TUN); default underlay MTU − ESP overhead. */
  readonly mtu?: number;
  /** Inject a charon (tests). */
  readonly charon?: CharonHandle;
}

const TUN = 'ipsec0';
export const LIBIPSEC_MAX_MTU = 1400;

interface IpsecPeer extends PeerRecord {
  readonly secretFingerprint: string;
  readonly configHash: string;
}

interface Prepared {
  readonly norm: NormalizedPeer<'ipsec'>;
  readonly cfg: IpsecPeerConfig;
  readonly remoteId: string;
}

/**
 * The IPsec cable driver: strongSwan's charon (one per gateway, supervised in the gateway's namespace)
 * configured over VICI. Per peer: a PSK (`load-shared`, owners = both cluster identities), an IKEv2
 * connection with one tunnel-mode CHILD_SA (`load-conn`, traffic selectors = the subnets), `initiate`.
 *
 * Routing (kernel-libipsec): charon's libipsec installs a route per CHILD_SA through its TUN `ipsec0` in
 * table 220 (looked up by a rule at priority 220) while the SA is up, and removes it when the SA goes down.
 * Strait additionally owns a route per remote subnet in the main table, also into `ipsec0`: while no SA is
 * installed, traffic to the remote cluster then ends in the TUN (dropped: no policy) instead of leaving by
 * the default route in clear text, and the route exists from connect() on, independent of IKE timing.
 * With kernel XFRM (`netlink`) charon's own table-220 routes via the underlay are used and Strait adds none.
 */
export class IpsecDriver extends CableDriverBase<IpsecPeer, Prepared> {
  readonly backend = 'ipsec' as const;
  private readonly config: IpsecDriverConfig & { kernelBackend: IpsecKernelBackend; ikePort: number; localId: string; initiateTimeoutMs: number; connectTimeoutMs: number };
  private readonly charon: CharonHandle | undefined;
  private readonly routes: OwnedRoutes;
  private readonly mss: TunnelMss;
  private vici: ViciPort | undefined;
  private watcher: { stop: boolean; sub: ViciSubscription | undefined } | undefined;
  private readonly lastEvent = new Map<string, { up: boolean; at: number; kind: string }>();
  private mtu = 0;
  /** Addresses of the gateway (namespace), as last read: kernel-libipsec needs one inside the local subnets. */
  private localAddrs: readonly string[] = [];

  constructor(gateway: GatewayContext, config: IpsecDriverConfig = {}) {
    const ctx = resolveContext('ipsec', gateway);
    super(ctx);
    const kernelBackend = config.kernelBackend ?? 'libipsec';
    if (kernelBackend !== 'libipsec' && kernelBackend !== 'netlink') {
      throw new DriverConfigError('ipsec', 'kernelBackend', `'${String(kernelBackend)}' is not libipsec or netlink`);
    }
    const localId = config.localId ?? ctx.clusterId;
    checkIdentity('localId', localId);
    this.config = {
      ...config,
      kernelBackend,
      ikePort: config.ikePort === undefined ? 500 : checkPort('ipsec', 'ikePort', config.ikePort),
      localId,
      initiateTimeoutMs: config.initiateTimeoutMs ?? 3_000,
      connectTimeoutMs: config.connectTimeoutMs ?? 30_000,
    };
    if (config.natTPort !== undefined) checkPort('ipsec', 'natTPort', config.natTPort);
    if (config.viciSocket !== undefined && (typeof config.viciSocket !== 'string' || !config.viciSocket.startsWith('/'))) {
      throw new DriverConfigError('ipsec', 'viciSocket', 'must be an absolute path');
    }
    this.charon =
      config.charon ??
      (config.viciSocket
        ? undefined
        : new Charon({
            dir: join(ctx.stateDir, 'ipsec'),
            netns: ctx.netns,
            kernelBackend,
            ikePort: this.config.ikePort,
            natTPort: config.natTPort,
            binary: config.charonBinary,
          }));
    this.routes = new OwnedRoutes(ctx.runner, ctx.netns, 'ipsec');
    this.mss = new TunnelMss(ctx.runner, ctx.netns, 'ipsec');
  }

  private get libipsec(): boolean {
    return this.config.kernelBackend === 'libipsec';
  }

  private nsOpts() {
    return this.ctx.netns ? { netns: this.ctx.netns } : {};
  }

  private client(): ViciPort {
    if (!this.vici) throw new DriverError('ipsec', 'not initialised: call init() first');
    return this.vici;
  }

  protected async doInit(): Promise<void> {
    // VICI first: if charon cannot be reached nothing else is touched.
    let vici: ViciPort;
    if (this.charon) {
      ensureDir(this.ctx.stateDir);
      let started;
      try {
        started = await this.charon.start();
      } catch (err) {
        throw new DriverError('ipsec', `charon could not be started: ${(err as Error).message}`, { cause: err });
      }
      this.ctx.logger.info({ pid: started.pid, adopted: started.adopted }, 'charon ready');
      vici = this.charon.vici();
    } else {
      vici = new ViciClient({ socketPath: this.config.viciSocket! });
    }
    try {
      await vici.version();
    } catch (err) {
      if (!this.charon) vici.close();
      throw new DriverError('ipsec', (err as Error).message, { cause: err });
    }
    this.vici = vici;
    this.mtu = this.config.mtu ?? tunnelMtu(await underlayMtu(this.ctx), 'ipsec', { ipsecSuite: 'aes-cbc-sha256', natTraversal: true });
    // kernel-libipsec reads its TUN with a fixed 1400-byte buffer (the MTU it creates the device with):
    // anything larger is silently lost, so the TUN must never be raised above it.
    if (this.libipsec) this.mtu = Math.min(this.mtu, LIBIPSEC_MAX_MTU);
    if (this.libipsec) {
      await this.waitForTun();
      const { stdout } = await this.ctx.runner.run('ip', ['-j', 'link', 'show', 'dev', TUN], this.nsOpts());
      const cur = (JSON.parse(stdout) as { mtu: number }[])[0]?.mtu;
      if (cur !== this.mtu) await this.ctx.runner.run('ip', ['link', 'set', 'dev', TUN, 'mtu', String(this.mtu)], this.nsOpts());
      await this.mss.apply([TUN], this.mtu);
      this.localAddrs = await this.readLocalAddresses();
    } else {
      this.ctx.logger.warn({}, 'ipsec with kernel XFRM: no tunnel interface to clamp MSS on; rely on the route MTU');
    }
    this.startWatcher();
  }

  private async waitForTun(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      try {
        await this.ctx.runner.run('ip', ['link', 'show', 'dev', TUN], this.nsOpts());
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new DriverError('ipsec', `charon's kernel-libipsec TUN ${TUN} did not appear${this.ctx.netns ? ` in netns ${this.ctx.netns}` : ''}`);
  }

  /** Follows ike-updown/child-updown for status messages and logs; resubscribes when charon restarts. */
  private startWatcher(): void {
    if (this.watcher) return;
    const watcher: { stop: boolean; sub: ViciSubscription | undefined } = { stop: false, sub: undefined };
    this.watcher = watcher;
    const loop = async (): Promise<void> => {
      while (!watcher.stop) {
        try {
          watcher.sub = await this.client().subscribe(['ike-updown', 'child-updown']);
          for await (const ev of watcher.sub) {
            const up = ev.message['up'] === 'yes';
            for (const key of Object.keys(ev.message)) {
              if (!key.startsWith(CONN_PREFIX)) continue;
              this.lastEvent.set(key, { up, at: Date.now(), kind: ev.name });
              this.ctx.logger.info({ conn: key, event: ev.name, up }, 'ipsec state change');
            }
          }
        } catch (err) {
          if (!watcher.stop) this.ctx.logger.debug({ err: (err as Error).message }, 'ipsec event stream interrupted');
        }
        if (!watcher.stop) await sleep(1_000);
      }
    };
    loop();
  }

  private stopWatcher(): void {
    if (!this.watcher) return;
    this.watcher.stop = true;
    this.watcher.sub?.close();
    this.watcher = undefined;
  }

  protected prepare(spec: PeerSpec): Prepared {
    const norm = normalizePeer('ipsec', spec, 500);
    const cfg = norm.spec.backendConfig as IpsecPeerConfig;
    if (typeof cfg.psk !== 'string' || cfg.psk.length < 16) throw new DriverConfigError('ipsec', 'backendConfig.psk', 'missing or shorter than 16 characters');
    if (cfg.psk.length > 4096) throw new DriverConfigError('ipsec', 'backendConfig.psk', 'longer than 4096 characters');
    const remoteId = cfg.remoteId ?? norm.clusterId;
    checkIdentity('backendConfig.remoteId', remoteId);
    if (norm.localSubnets.length === 0) throw new DriverConfigError('ipsec', 'localSubnets', 'IPsec needs at least one local subnet (traffic selector)');
    for (const key of ['ikeProposals', 'espProposals'] as const) {
      const list = cfg[key];
      if (list !== undefined && (!Array.isArray(list) || list.length === 0 || list.some((p) => typeof p !== 'string' || !/^[a-z0-9_-]+$/.test(p)))) {
        throw new DriverConfigError('ipsec', `backendConfig.${key}`, 'must be a non-empty list of strongSwan proposal strings');
      }
    }
    assertNoOverlap('ipsec', norm, this.peerSubnets());
    return { norm, cfg, remoteId };
  }

  protected async doConnect({ norm, cfg, remoteId }: Prepared): Promise<ConnectionStatus> {
    const vici = this.client();
    if (this.libipsec) await this.assertLocalAddress(norm);
    const name = connName(norm.clusterId);
    const previous = this.peers.get(norm.clusterId);
    const secretFingerprint = createHash('sha256').update(`${this.config.localId}\n${remoteId}\n${cfg.psk}`).digest('hex').slice(0, 16);
    if (previous?.secretFingerprint !== secretFingerprint) {
      await vici.loadShared({ id: secretId(norm.clusterId), type: 'IKE', data: cfg.psk, owners: [this.config.localId, remoteId] });
    }
    const conn = connConfig(norm, {
      localId: this.config.localId,
      remoteId,
      localIp: this.ctx.localIp,
      ikePort: this.config.ikePort,
      forceEncap: this.libipsec,
      ikeProposals: cfg.ikeProposals,
      espProposals: cfg.espProposals,
    });
    const configHash = createHash('sha256').update(JSON.stringify(conn)).digest('hex').slice(0, 16);
    if (previous?.configHash !== configHash) {
      // charon keeps an unchanged connection (and its SAs) as it is, so re-loading after a restart is safe.
      await vici.loadConn(name, conn);
    }

    // The routes (ip processes) and IKE (charon) at the same time: on a failover the new gateway's
    // IKE_SA is what the peer waits for, and charon routes its CHILD_SA by itself once installed.
    const [routed, initiated] = await Promise.allSettled([this.libipsec ? this.ensureRoutes(norm, previous) : Promise.resolve(), this.initiateUnlessUp(vici, name, norm)]);
    if (routed.status === 'rejected') throw routed.reason;
    if (initiated.status === 'rejected') throw initiated.reason;

    const record: IpsecPeer = {
      norm,
      connectedAt: previous?.connectedAt ?? Date.now(),
      prober: this.proberFor(previous, norm),
      secretFingerprint,
      configHash,
    };
    this.peers.set(norm.clusterId, record);
    return (await this.doStatuses([record]))[0]!;
  }

  private async ensureRoutes(norm: NormalizedPeer, previous: IpsecPeer | undefined): Promise<void> {
    const want = norm.remoteSubnets.map((p) => p.text);
    const stale = (previous?.norm.remoteSubnets ?? []).map((p) => p.text).filter((d) => !want.includes(d));
    await this.routes.remove(stale);
    await this.routes.ensure(want.map((dst) => ({ dst, dev: TUN, src: norm.spec.healthCheck?.localIp })));
  }

  /** Initiates the IKE_SA and CHILD_SA unless they are up or coming; a failure to establish is not fatal. */
  private async initiateUnlessUp(vici: ViciPort, name: string, norm: NormalizedPeer): Promise<void> {
    const sas = summariseSas(await vici.listSas({ ike: name, noblock: true }), name);
    const upOrComing = sas.ikeState === 'ESTABLISHED' || sas.ikeState === 'CONNECTING' || sas.ikeState === 'REKEYING';
    if (upOrComing && !(sas.ikeState === 'ESTABLISHED' && !sas.childInstalled)) return;
    try {
      await vici.initiate({ child: name, ike: name, timeoutMs: this.config.initiateTimeoutMs });
      this.ctx.logger.info({ peer: norm.clusterId, endpoint: formatEndpoint(norm.endpointIp, norm.endpointPort) }, 'ipsec SA initiated');
    } catch (err) {
      // Not fatal: charon keeps trying (keyingtries 0) and the peer may simply not be up yet.
      this.ctx.logger.info({ peer: norm.clusterId, err: (err as Error).message }, 'ipsec initiate did not complete yet');
    }
  }

  /**
   * kernel-libipsec routes each CHILD_SA through its TUN with a source address from the local traffic
   * selector; without such an address on the gateway the route fails and charon refuses the CHILD_SA
   * (TS_UNACCEPTABLE, seen only in charon's log). Say so up front instead.
   */
  private async assertLocalAddress(norm: NormalizedPeer): Promise<void> {
    const inside = (locals: readonly string[]) => locals.some((ip) => norm.localSubnets.some((p) => prefixContains(p, ip)));
    // The addresses read last time (at init, off a failover's critical path) answer when they can.
    if (inside(this.localAddrs)) return;
    this.localAddrs = await this.readLocalAddresses();
    if (!inside(this.localAddrs)) {
      throw new DriverConfigError(
        'ipsec',
        'localSubnets',
        `this gateway has no address inside ${norm.localSubnets.map((p) => p.text).join(', ')}${this.ctx.netns ? ` (netns ${this.ctx.netns})` : ''}; kernel-libipsec needs one (e.g. the health-check IP) to route the tunnel`,
      );
    }
  }

  private async readLocalAddresses(): Promise<string[]> {
    const { stdout } = await this.ctx.runner.run('ip', ['-j', 'addr', 'show'], this.nsOpts());
    const links = (stdout.trim() ? JSON.parse(stdout) : []) as { addr_info?: { local?: string }[] }[];
    return links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local).filter((a): a is string => typeof a === 'string'));
  }

  protected async doDisconnect(peer: IpsecPeer): Promise<void> {
    const vici = this.client();
    const name = connName(peer.norm.clusterId);
    await this.dropConn(vici, name);
    await ignoreMissing(vici.unloadShared(secretId(peer.norm.clusterId)));
    if (this.libipsec) await this.routes.remove(peer.norm.remoteSubnets.map((p) => p.text));
    this.lastEvent.delete(name);
    this.ctx.logger.info({ peer: peer.norm.clusterId }, 'ipsec peer removed');
  }

  private async dropConn(vici: ViciPort, name: string): Promise<void> {
    // unload-conn leaves established SAs in place: terminate them first.
    const sas = summariseSas(await vici.listSas({ ike: name, noblock: true }), name);
    if (sas.ikeSas > 0) await ignoreMissing(vici.terminate({ ike: name, force: true, timeoutMs: 2_000 }));
    await ignoreMissing(vici.unloadConn(name));
  }

  /**
   * What a standby must not hold: every Strait connection, CHILD_SA and PSK in charon that this driver
   * instance does not hold as a peer — typically the SAs of an earlier process of this gateway (it
   * crashed while active; charon outlives it). Left in place, such an SA would be restarted by DPD and,
   * with INITIAL_CONTACT, replace the active gateway's SA at the peer. Starts no charon: with none running
   * there is nothing to release. Returns the number of connections dropped.
   */
  releaseUnheld(): Promise<number> {
    return this.serial(async () => {
      if (!this.vici && this.charon && this.charon.pid === undefined) return 0;
      await this.init();
      const vici = this.client();
      const held = new Set([...this.peers.keys()].map(connName));
      const heldSecrets = new Set([...this.peers.keys()].map(secretId));
      const stale = (await vici.getConns()).filter((c) => c.startsWith(CONN_PREFIX) && !held.has(c));
      for (const c of stale) {
        await this.dropConn(vici, c);
        this.lastEvent.delete(c);
      }
      let secrets: string[] = [];
      try {
        secrets = (await vici.getShared()).filter((id) => id.startsWith(SECRET_PREFIX) && !heldSecrets.has(id));
      } catch {
        // get-shared is missing on old charons: connections without their PSK cannot authenticate anyway
      }
      for (const id of secrets) await ignoreMissing(vici.unloadShared(id));
      // Routes of the released peers (an earlier process's) go with them: only held peers' subnets stay.
      if (this.libipsec) {
        const keep = new Set([...this.peers.values()].flatMap((p) => p.norm.remoteSubnets.map((r) => r.text)));
        await this.routes.remove((await this.routes.list()).map((r) => r.dst).filter((d) => !keep.has(d)));
      }
      if (stale.length > 0) this.ctx.logger.info({ conns: stale }, 'ipsec: released connections a standby must not hold');
      return stale.length;
    });
  }

  protected async doStatuses(peers: readonly IpsecPeer[]): Promise<ConnectionStatus[]> {
    const vici = this.client();
    const out: ConnectionStatus[] = [];
    for (const peer of peers) {
      const name = connName(peer.norm.clusterId);
      const sas = summariseSas(await vici.listSas({ ike: name, noblock: true }), name);
      const endpoint = formatEndpoint(peer.norm.endpointIp, peer.norm.endpointPort);
      let verdict: { state: ConnectionState; message: string };
      if (sas.ikeState === 'ESTABLISHED' && sas.childInstalled) {
        verdict = { state: 'Connected', message: `IKE_SA established ${sas.establishedSeconds ?? 0} s ago, CHILD_SA installed` };
      } else {
        const waited = Date.now() - peer.connectedAt;
        const ev = this.lastEvent.get(name);
        const detail = sas.ikeState ? `IKE_SA ${sas.ikeState}${sas.ikeState === 'ESTABLISHED' ? ', no CHILD_SA installed' : ''}` : 'no IKE_SA';
        const last = ev ? `; last ${ev.kind} ${ev.up ? 'up' : 'down'} ${Math.round((Date.now() - ev.at) / 1000)} s ago` : '';
        verdict =
          waited < this.config.connectTimeoutMs
            ? { state: 'Connecting', message: `${detail} with ${endpoint}${last}` }
            : { state: 'Error', message: `${detail} with ${endpoint} after ${Math.round(waited / 1000)} s${last}` };
      }
      verdict = applyHealth(verdict, peer.prober, peer.norm.spec.healthCheck?.remoteIp, this.ctx.health.failAfter);
      out.push({
        clusterId: peer.norm.clusterId,
        backend: 'ipsec',
        state: verdict.state,
        message: verdict.message,
        interface: this.libipsec ? TUN : undefined,
        endpoint,
        rxBytes: sas.bytesIn,
        txBytes: sas.bytesOut,
        lastHandshake: sas.establishedSeconds === undefined ? undefined : new Date(Date.now() - sas.establishedSeconds * 1000).toISOString(),
        rtt: peer.prober?.stats(),
      });
    }
    return out;
  }

  protected async doCleanup(): Promise<void> {
    this.stopWatcher();
    const vici = this.vici;
    if (vici) {
      try {
        const conns = (await vici.getConns()).filter((c) => c.startsWith(CONN_PREFIX));
        for (const c of conns) await this.dropConn(vici, c);
        const ids = new Set([...this.peers.keys()].map(secretId));
        try {
          for (const id of await vici.getShared()) if (id.startsWith('strait-psk-')) ids.add(id);
        } catch {
          // get-shared is missing on old charons: the known ids are enough
        }
        for (const id of ids) await ignoreMissing(vici.unloadShared(id));
      } catch (err) {
        this.ctx.logger.warn({ err: (err as Error).message }, 'ipsec cleanup: could not unload from charon');
      }
    }
    if (this.charon) await this.charon.stop();
    else vici?.close();
    this.vici = undefined;
    await this.routes.removeAll();
    await this.mss.remove();
    this.lastEvent.clear();
  }

  protected override async doClose(): Promise<void> {
    this.stopWatcher();
    this.vici?.close();
    this.vici = undefined;
  }
}

function checkIdentity(field: string, id: unknown): void {
  if (typeof id !== 'string' || id.length === 0 || id.length > 255 || !/^[\x21-\x7e]+$/.test(id)) {
    throw new DriverConfigError('ipsec', field, 'must be 1-255 printable characters without spaces');
  }
}

async function ignoreMissing(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof ViciCommandError)) throw err;
  }
}
