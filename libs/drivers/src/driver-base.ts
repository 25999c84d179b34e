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

/** A peer to connect in a batch: its spec and what `prepare` made of it (validated against the connected peers). */
export interface ConnectItem<V> {
  readonly spec: PeerSpec;
  readonly prepared: V;
}

/** The outcome of one peer of a batch: its status, or why it was not connected. */
export type ConnectOutcome = { readonly status: ConnectionStatus } | { readonly error: unknown };

interface ConnectRequest {
  readonly spec: PeerSpec;
  readonly resolve: (s: ConnectionStatus) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * What the drivers share: the peer table, a one-time init, and a serial queue so that concurrent calls
 * never interleave their kernel changes. Input is validated (`prepare`) before init and before any change.
 *
 * Connects coalesce: the connects asked for while the driver is busy are applied together as one batch
 * when their turn comes (`doConnectMany`: a driver may write all of them with one command), each caller
 * still getting its own peer's status or error. A peer appears at most once per batch.
 */
export abstract class CableDriverBase<P extends PeerRecord, V = unknown> implements CableDriver {
  abstract readonly backend: Backend;
  protected readonly ctx: ResolvedContext;
  protected readonly peers = new Map<string, P>();
  private initPromise: Promise<void> | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private connectQueue: ConnectRequest[] = [];
  /** Batches of connects applied so far, and the peers in them (for tests and logs). */
  batches = 0;
  batchedPeers = 0;

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
    return new Promise<ConnectionStatus>((resolve, reject) => {
      this.connectQueue.push({ spec, resolve, reject });
      // The first waiting connect schedules the batch; later ones join it until it starts.
      if (this.connectQueue.length === 1) this.scheduleConnects();
    });
  }

  private scheduleConnects(): void {
    this.serial(() => this.flushConnects()).catch(() => undefined);
  }

  private async flushConnects(): Promise<void> {
    const queue = this.connectQueue;
    const ids = new Set<unknown>();
    let cut = queue.findIndex((r) => {
      const id = (r.spec as PeerSpec | undefined)?.clusterId;
      if (ids.has(id)) return true;
      ids.add(id);
      return false;
    });
    if (cut < 0) cut = queue.length;
    const batch = queue.splice(0, cut);
    // A second connect of a peer of this batch goes to the next one (in the order asked).
    if (queue.length > 0) this.scheduleConnects();
    const ready: { req: ConnectRequest; item: ConnectItem<V> }[] = [];
    for (const req of batch) {
      try {
        ready.push({ req, item: { spec: req.spec, prepared: this.prepare(req.spec) } });
      } catch (e) {
        req.reject(e);
      }
    }
    if (ready.length === 0) return;
    try {
      await this.init();
    } catch (e) {
      for (const r of ready) r.req.reject(e);
      return;
    }
    let outcomes: ConnectOutcome[];
    try {
      outcomes = await this.doConnectMany(ready.map((r) => r.item));
    } catch (e) {
      outcomes = ready.map(() => ({ error: e }));
    }
    this.batches++;
    this.batchedPeers += ready.length;
    ready.forEach((r, i) => {
      const o = outcomes[i];
      if (o && 'status' in o) r.req.resolve(o.status);
      else r.req.reject(o ? o.error : new DriverError(this.backend, `no outcome for peer ${r.item.spec.clusterId}`));
    });
  }

  /**
   * Connects a batch of distinct peers; one outcome per item, in order. Default: one after another, each
   * validated again against the peers connected before it in the batch. A driver that can write many
   * peers at once overrides this (and checks the items against each other itself).
   */
  protected async doConnectMany(items: readonly ConnectItem<V>[]): Promise<ConnectOutcome[]> {
    const out: ConnectOutcome[] = [];
    for (const [i, item] of items.entries()) {
      try {
        out.push({ status: await this.doConnect(i === 0 ? item.prepared : this.prepare(item.spec)) });
      } catch (error) {
        out.push({ error });
      }
    }
    return out;
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
