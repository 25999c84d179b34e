import type { ResolvedContext } from './context.ts';
import type { Prober } from './health/ping-prober.ts';
import { DriverError, type Backend, type CableDriver, type ConnectionStatus, type PeerSpec } from './types.ts';
import type { NormalizedPeer } from './validate.ts';

export interface PeerRecord {
  readonly norm: NormalizedPeer;
  /** When this peer was first connected by this driver instance (for Connecting → Error timeouts). */
  readonly connectedAt: number;
  readonly prober: Prober | undefined;
}

/**
 * What the drivers share: the peer table, a one-time init, and a serial queue so that concurrent calls
 * never interleave their kernel changes. Input is validated (`prepare`) before init and before any change.
 */
export abstract class CableDriverBase<P extends PeerRecord, V = unknown> implements CableDriver {
  abstract readonly backend: Backend;
  protected readonly ctx: ResolvedContext;
  protected readonly peers = new Map<string, P>();
  private initPromise: Promise<void> | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  protected constructor(ctx: ResolvedContext) {
    this.ctx = ctx;
  }

  /** Pure validation of a spec (no I/O): throws DriverConfigError naming the field. */
  protected abstract prepare(spec: PeerSpec): V;
  protected abstract doInit(): Promise<void>;
  protected abstract doConnect(prepared: V): Promise<ConnectionStatus>;
  protected abstract doDisconnect(peer: P): Promise<void>;
  protected abstract doStatuses(peers: readonly P[]): Promise<ConnectionStatus[]>;
  protected abstract doCleanup(): Promise<void>;
  protected doClose(): Promise<void> {
    return Promise.resolve();
  }

  protected serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  validate(spec: PeerSpec): void {
    this.prepare(spec);
  }

  init(): Promise<void> {
    this.initPromise ??= this.doInit().catch((err: unknown) => {
      this.initPromise = undefined;
      throw err;
    });
    return this.initPromise;
  }

  connect(spec: PeerSpec): Promise<ConnectionStatus> {
    return this.serial(async () => {
      const prepared = this.prepare(spec);
      await this.init();
      return this.doConnect(prepared);
    });
  }

  disconnect(clusterId: string): Promise<void> {
    return this.serial(async () => {
      const peer = this.peers.get(clusterId);
      if (!peer) return;
      await this.init();
      await this.doDisconnect(peer);
      peer.prober?.stop();
      this.peers.delete(clusterId);
    });
  }

  async status(clusterId: string): Promise<ConnectionStatus> {
    const peer = this.peers.get(clusterId);
    if (!peer) throw new DriverError(this.backend, `no peer ${JSON.stringify(clusterId)} (known: ${[...this.peers.keys()].join(', ') || 'none'})`);
    await this.init();
    return (await this.doStatuses([peer]))[0]!;
  }

  async connections(): Promise<ConnectionStatus[]> {
    if (this.peers.size === 0) return [];
    await this.init();
    return this.doStatuses([...this.peers.values()]);
  }

  /** Cluster ids and remote subnets of the connected peers (for cross-driver overlap checks). */
  peerSubnets(): { clusterId: string; remoteSubnets: NormalizedPeer['remoteSubnets'] }[] {
    return [...this.peers.values()].map((p) => ({ clusterId: p.norm.clusterId, remoteSubnets: p.norm.remoteSubnets }));
  }

  cleanup(): Promise<void> {
    return this.serial(async () => {
      for (const p of this.peers.values()) p.prober?.stop();
      await this.doCleanup();
      this.peers.clear();
      this.initPromise = undefined;
    });
  }

  close(): Promise<void> {
    return this.serial(async () => {
      for (const p of this.peers.values()) p.prober?.stop();
      await this.doClose();
      this.peers.clear();
      this.initPromise = undefined;
    });
  }

  /** Keeps the previous prober when the health check is unchanged; otherwise replaces it. */
  protected proberFor(previous: P | undefined, norm: NormalizedPeer): Prober | undefined {
    const want = norm.spec.healthCheck;
    const had = previous?.norm.spec.healthCheck;
    if (previous?.prober && want && had && want.localIp === had.localIp && want.remoteIp === had.remoteIp) return previous.prober;
    previous?.prober?.stop();
    if (!want) return undefined;
    const prober = this.ctx.newProber({ localIp: want.localIp, remoteIp: want.remoteIp });
    prober.start();
    return prober;
  }
}
