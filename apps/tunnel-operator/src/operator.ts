import {
  FINALIZERS,
  GATEWAY_ROLE_ACTIVE,
  GATEWAY_ROLE_STANDBY,
  EndpointResource,
  TunnelEndpointResource,
  type Endpoint,
  type Gateway,
  type GatewayConnection,
  type GatewayRole,
  type TunnelEndpoint,
  type TunnelEndpointStatus,
} from '@strait/api';
import { GatewayLeaderSubject, TunnelStatusSubject, type Bus } from '@strait/bus';
import type { ConnectionStatus } from '@strait/drivers';
import {
  Controller,
  EventRecorder,
  Informer,
  LeaderElector,
  hasFinalizer,
  isNotFound,
  jsonEqual,
  objectKey,
  removeFinalizer,
  ensureFinalizer,
  setCondition,
  leaseElectionOptions,
  type EventsV1Event,
  type Lease,
  type LeaseSettings,
  type LeaderMetricsSink,
  type ReconcileMetricsSink,
  type ResourceClient,
  type WorkqueueMetricsSink,
} from '@strait/kube';
import type { Logger } from 'pino';
import type { EndpointOffer } from './backends.ts';
import type { GatewayDatapath } from './datapath.ts';
import type { TunnelMetrics } from './metrics.ts';
import { PeerSpecError, desiredPeer, type LocalPlan, type PeerDesired } from './peers.ts';

/**
 * tunnel-operator's control loop on every gateway replica (see docs/adr/0004):
 *  - every replica watches the TunnelEndpoints (warm cache) and keeps its Gateway status object;
 *  - the Lease holder is the active gateway: on becoming leader it connects every peer at once (in
 *    parallel) and applies the host rules, then reconciles each TunnelEndpoint (status, Events,
 *    finalizer) and keeps the cluster's sole Endpoint. New or changed peers are applied in batches (#flush:
 *    the host state once per batch, the drivers' connects together); an unchanged peer's reconcile only
 *    reads its status; drift is repaired by a whole-set resync every RESYNC_MS;
 *  - a replica that sees ANOTHER holder releases what a standby must not hold (peers, host rules);
 *    losing the Lease with no successor (API server unreachable) leaves the datapath up;
 *  - SIGTERM: release the Lease, wait briefly for a successor, then release the peers.
 */

export const REPORTING_CONTROLLER = 'net.strait.io/tunnel-operator';
export const FIELD_MANAGER = 'strait-tunnel-operator';

export interface EndpointSettings {
  readonly ip: string;
  /** The backends offered (the preferred one first) and those left out (see backends.ts). */
  readonly offer: EndpointOffer;
}

export interface TunnelOperatorOptions {
  readonly clusterId: string;
  readonly namespace: string;
  readonly nodeName: string;
  readonly podName: string;
  readonly teps: ResourceClient<TunnelEndpoint>;
  readonly endpoints: ResourceClient<Endpoint>;
  readonly gateways: ResourceClient<Gateway>;
  readonly events: ResourceClient<EventsV1Event>;
  readonly leases: ResourceClient<Lease>;
  readonly election: LeaseSettings;
  readonly datapath: GatewayDatapath;
  readonly local: LocalPlan;
  readonly endpoint?: EndpointSettings | undefined;
  readonly bus?: Bus | undefined;
  readonly logger: Logger;
  readonly metrics?: TunnelMetrics | undefined;
  readonly controllerMetrics?:
    | { workqueue(name: string): WorkqueueMetricsSink; reconciler(name: string): ReconcileMetricsSink; leader?(name: string): LeaderMetricsSink }
    | undefined;
  readonly statusIntervalMs: number;
  /** On SIGTERM, how long to wait for another replica to take the Lease before releasing the peers. */
  readonly handoverWaitMs?: number | undefined;
}

export class TunnelOperator {
  readonly informer: Informer<TunnelEndpoint>;
  readonly controller: Controller;
  readonly elector: LeaderElector;
  readonly #o: TunnelOperatorOptions;
  readonly #log: Logger;
  readonly #recorder: EventRecorder;
  /** This replica holds the datapath active (peers connected). */
  #active = false;
  #stopping = false;
  #role: GatewayRole = GATEWAY_ROLE_STANDBY;
  #roleSince = new Date().toISOString();
  /** Connected peers by TunnelEndpoint key. */
  readonly #peers = new Map<string, PeerDesired>();
  /** Last phase per peer (events, NATS transitions). */
  readonly #phases = new Map<string, string>();
  readonly #statuses = new Map<string, ConnectionStatus>();
  /** Peers waiting for the next batch (#flush), by TunnelEndpoint key. */
  readonly #pending = new Map<string, { d: PeerDesired; resync: boolean; waiters: { resolve: (s: ConnectionStatus) => void; reject: (e: unknown) => void }[] }>();
  #flushQueued = false;
  /** One read of every connection, shared by the reconciles that need a status at about the same time. */
  #snapshot: { at: number; read: Promise<Map<string, ConnectionStatus>> } | undefined;
  /** The next batch diffs everything against the kernel (a resync). */
  #verifyNext = false;
  #resyncedAt = 0;
  #batches = 0;
  /** Reconciles of a peer not yet connected since it was last applied (requeue backoff). */
  readonly #waits = new Map<string, number>();
  #tail: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #lastGatewayStatus: unknown;
  #endpointWritten = false;
  #activated: Promise<void> | undefined;
  #activating = false;
  /** Backends whose shared machinery (daemon, link) this replica has prepared (hot standby). */
  readonly #warmed = new Set<string>();
  readonly #warmErrors = new Map<string, string>();
  #warming = false;

  constructor(o: TunnelOperatorOptions) {
    this.#o = o;
    this.#log = o.logger;
    this.informer = new Informer<TunnelEndpoint>({ client: o.teps, namespace: o.namespace, logger: o.logger, name: 'tunnelendpoints' });
    this.#recorder = new EventRecorder({ client: o.events, reportingController: REPORTING_CONTROLLER, reportingInstance: o.podName, logger: o.logger });
    this.controller = new Controller({
      name: 'tunnelendpoint',
      logger: o.logger,
      // Reconciles mostly wait on the API server and on the peer batch they joined: more of them at once
      // make larger batches.
      concurrency: 64,
      reconcile: (key) => this.#reconcile(key),
      workqueueMetrics: o.controllerMetrics?.workqueue('tunnelendpoint'),
      reconcileMetrics: o.controllerMetrics?.reconciler('tunnelendpoint'),
    });
    this.controller.watch(this.informer);
    this.elector = new LeaderElector({
      client: o.leases,
      namespace: o.namespace,
      identity: o.podName,
      ...leaseElectionOptions(o.election),
      metrics: o.controllerMetrics?.leader?.(o.election.leaseName),
      logger: o.logger,
      callbacks: {
        onStartedLeading: () => {
          this.#activated = this.#activate().catch((e: unknown) => this.#log.error({ err: errText(e) }, 'activation failed; reconciles retry'));
        },
        onNewLeader: (identity) => {
          if (identity !== o.podName) void this.#demote(`the Lease is held by ${identity}`);
        },
      },
    });
  }

  get active(): boolean {
    return this.#active;
  }

  get ready(): boolean {
    return this.informer.hasSynced();
  }

  async start(): Promise<void> {
    await this.controller.start();
    this.elector.start();
    this.#timer = setInterval(() => void this.#tick(), this.#o.statusIntervalMs);
    this.#timer.unref();
    void this.#writeGatewayStatus().catch(() => undefined);
  }

  /** Graceful stop: release the Lease; once another replica holds it, release the peers. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearInterval(this.#timer);
    const wasActive = this.#active;
    await this.elector.stop();
    if (wasActive) {
      const successor = await this.#waitForSuccessor(this.#o.handoverWaitMs ?? 3_000);
      if (successor) await this.#demote(`handed over to ${successor}`, true);
      else this.#log.warn('no other replica took the Lease: the tunnels stay up as they are');
    }
    await this.controller.stop();
    await this.informer.stop();
  }

  async #waitForSuccessor(timeoutMs: number): Promise<string | undefined> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const lease = await this.#o.leases.get({ namespace: this.#o.namespace, name: this.#o.election.leaseName }).catch(() => undefined);
      const holder = lease?.spec?.holderIdentity ?? '';
      if (holder && holder !== this.#o.podName) return holder;
      await sleep(25);
    }
    return undefined;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  #isLeader(): boolean {
    return this.#active && this.elector.isLeader() && !this.#stopping;
  }

  async #activate(): Promise<void> {
    this.#activating = true;
    try {
      await this.#activateOnce();
    } finally {
      this.#activating = false;
    }
  }

  async #activateOnce(): Promise<void> {
    const t0 = performance.now();
    await this.#serial(async () => {
      if (!this.elector.isLeader() || this.#stopping) return;
      this.#active = true;
      this.#setRole(GATEWAY_ROLE_ACTIVE);
      await this.informer.waitForSync({ timeoutMs: 30_000 });
      const desired: PeerDesired[] = [];
      for (const tep of this.informer.list()) {
        if (tep.metadata?.deletionTimestamp) continue;
        try {
          desired.push(desiredPeer(tep, this.#o.local));
        } catch {
          // reported by the reconcile of that TunnelEndpoint
        }
      }
      // Every peer at once, and the host rules with them: the new endpoint's first handshake makes the
      // remote peers roam to it. (A packet that meets the host rule a few milliseconds before its
      // tunnel route is dropped, as it would be without the rule.)
      const host = this.#o.datapath.applyPeers(desired, { verify: true });
      // A remapped peer's health-check address must exist before its driver routes from it.
      const results = await Promise.allSettled(
        desired.map(async (d) => {
          if (d.healthAddress) await host;
          return this.#o.datapath.connect(d);
        }),
      );
      await host;
      results.forEach((r, i) => {
        const d = desired[i]!;
        if (r.status === 'fulfilled') {
          this.#peers.set(d.key, d);
          this.#statuses.set(d.key, r.value);
        } else this.#log.warn({ peer: d.clusterId, err: errText(r.reason) }, 'peer not connected at activation; its reconcile retries');
      });
      await this.#o.datapath.applyPeers([...this.#peers.values()]);
    });
    const seconds = (performance.now() - t0) / 1000;
    this.#o.metrics?.activation.observe(seconds);
    this.#log.info({ peers: this.#peers.size, ms: Math.round(seconds * 1000) }, 'active gateway: every peer connected');
    await this.#publishLeader();
    for (const key of this.informer.keys()) this.controller.enqueue(key);
    this.#endpointWritten = false;
    await Promise.allSettled([this.#writeEndpoint(), this.#writeGatewayStatus()]);
  }

  async #demote(reason: string, force = false): Promise<void> {
    if (!force && (this.elector.isLeader() || this.#stopping)) return;
    const released = await this.#serial(async () => {
      // Re-checked here: this replica may have taken the Lease while the call waited its turn.
      if (!force && this.elector.isLeader()) return false;
      const had = [...new Set([...this.#peers.values()].map((p) => p.clusterId))];
      const wasActive = this.#active;
      this.#active = false;
      this.#setRole(GATEWAY_ROLE_STANDBY);
      this.#peers.clear();
      this.#statuses.clear();
      const writes = await this.#o.datapath.release(had);
      if (wasActive || writes > 0) this.#log.info({ reason, peers: had.length, writes }, 'standby: released tunnel peers and host rules');
      return true;
    });
    if (released) await this.#writeGatewayStatus().catch(() => undefined);
  }

  #setRole(role: GatewayRole): void {
    if (this.#role === role) return;
    this.#role = role;
    this.#roleSince = new Date().toISOString();
    this.#o.metrics?.leader.set(role === GATEWAY_ROLE_ACTIVE ? 1 : 0);
    this.#o.metrics?.leaderTransitions.inc({ to: role });
  }

  async #publishLeader(): Promise<void> {
    const bus = this.#o.bus;
    if (!bus) return;
    const lease = await this.#o.leases.get({ namespace: this.#o.namespace, name: this.#o.election.leaseName }).catch(() => undefined);
    bus.publish(GatewayLeaderSubject, { cluster: this.#o.clusterId }, {
      cluster: this.#o.clusterId,
      holder: this.#o.podName,
      node: this.#o.nodeName,
      leaseTransitions: lease?.spec?.leaseTransitions ?? 0,
      timestamp: new Date().toISOString(),
    });
  }

  /**
   * The role follows the elector, also when a callback raced another (e.g. a stale "new leader"
   * observation handled while this replica was taking the Lease): leading but not active → activate;
   * not leading, another holder observed, still active → release.
   */
  async #converge(): Promise<void> {
    if (this.#stopping || this.#activating) return;
    const leading = this.elector.isLeader();
    if (leading && !this.#active) {
      this.#log.warn('holding the Lease but not active: activating');
      this.#activated = this.#activate().catch((e: unknown) => this.#log.error({ err: errText(e) }, 'activation failed; reconciles retry'));
      await this.#activated;
    } else if (!leading && this.#active) {
      const holder = this.elector.leader();
      if (holder && holder !== this.#o.podName) await this.#demote(`the Lease is held by ${holder}`);
    }
  }

  /**
   * Hot standby: every replica prepares the drivers its TunnelEndpoints use (IPsec: charon started or
   * adopted) before it may have to activate them; WireGuard's link is prepared at start already.
   */
  async #warm(): Promise<void> {
    if (this.#warming || this.#stopping || !this.informer.hasSynced()) return;
    const wanted = new Set(this.informer.list().filter((t) => !t.metadata?.deletionTimestamp && typeof t.spec?.backend === 'string').map((t) => t.spec.backend));
    const todo = [...wanted].filter((b) => !this.#warmed.has(b));
    if (todo.length === 0) return;
    this.#warming = true;
    try {
      for (const backend of todo) {
        try {
          await this.#o.datapath.warm(backend);
          this.#warmed.add(backend);
          this.#log.info({ backend }, 'driver ready (hot standby)');
        } catch (e) {
          // Logged once per distinct error; the connect of a TunnelEndpoint reports it in its status.
          const err = errText(e);
          if (this.#warmErrors.get(backend) !== err) this.#log.warn({ backend, err }, 'driver could not be prepared yet; retried on the next status tick');
          this.#warmErrors.set(backend, err);
        }
      }
    } finally {
      this.#warming = false;
    }
  }

  async #tick(): Promise<void> {
    void this.#warm();
    try {
      await this.#converge();
      if (this.#isLeader()) {
        void this.#resync();
        for (const key of this.informer.keys()) this.controller.enqueue(key);
        if (!this.#endpointWritten) await this.#writeEndpoint();
      }
      await this.#writeGatewayStatus();
    } catch (e) {
      this.#log.warn({ err: errText(e) }, 'status refresh failed');
    }
  }

  async #reconcile(key: string): Promise<{ requeueAfter: number } | void> {
    if (!this.#isLeader()) return;
    if (this.#activated) await this.#activated;
    const tep = this.informer.get(key);
    if (!tep) {
      await this.#removePeer(key);
      return;
    }
    if (tep.metadata?.deletionTimestamp) {
      if (!hasFinalizer(tep, FINALIZERS.tunnel)) return;
      await this.#removePeer(key);
      void this.#recorder.normal(tep, 'Disconnected', `tunnel to ${tep.spec.remoteClusterID} removed (routes, rules, NAT, peer)`, { descriptor: TunnelEndpointResource, action: 'Disconnect' });
      await removeFinalizer(this.#o.teps, tep, FINALIZERS.tunnel);
      return;
    }
    const obj = await ensureFinalizer(this.#o.teps, tep, FINALIZERS.tunnel);
    let d: PeerDesired;
    try {
      d = desiredPeer(obj, this.#o.local);
    } catch (e) {
      if (!(e instanceof PeerSpecError)) throw e;
      await this.#writeStatus(obj, { phase: 'Error', reason: 'InvalidSpec', message: e.message });
      if (this.#phases.get(key) !== `invalid:${e.message}`) {
        this.#phases.set(key, `invalid:${e.message}`);
        void this.#recorder.warning(obj, 'InvalidSpec', e.message, { descriptor: TunnelEndpointResource, action: 'Connect' });
      }
      return;
    }
    let st: ConnectionStatus;
    try {
      st = await this.#connect(key, d);
    } catch (e) {
      if (e instanceof NotLeader) return;
      const message = errText(e);
      await this.#writeStatus(obj, { phase: 'Error', reason: 'ConnectFailed', message });
      void this.#recorder.warning(obj, 'ConnectFailed', message, { descriptor: TunnelEndpointResource, action: 'Connect' });
      throw e;
    }
    this.#statuses.set(key, st);
    this.#o.metrics?.observe(st);
    await this.#writeStatus(obj, { phase: st.state, reason: st.state === 'Connected' ? 'Connected' : st.state === 'Connecting' ? 'Connecting' : 'TunnelError', message: st.message }, st);
    const before = this.#phases.get(key);
    if (before !== st.state) {
      this.#phases.set(key, st.state);
      if (st.state === 'Connected') void this.#recorder.normal(obj, 'Connected', `tunnel to ${d.clusterId} connected over ${d.spec.backend} (${st.interface ?? '?'})`, { descriptor: TunnelEndpointResource, action: 'Connect' });
      if (st.state === 'Error') void this.#recorder.warning(obj, 'TunnelError', st.message, { descriptor: TunnelEndpointResource, action: 'Connect' });
      this.#o.bus?.publish(TunnelStatusSubject, { cluster: this.#o.clusterId, peer: d.clusterId }, {
        cluster: this.#o.clusterId,
        peer: d.clusterId,
        status: st.state,
        ...(st.rtt && st.rtt.samples > 0 ? { rttMs: st.rtt.avgMs } : {}),
        timestamp: new Date().toISOString(),
      });
    }
    if (st.state === 'Connected') {
      this.#waits.delete(key);
      return;
    }
    // Not connected yet: looked at again sooner at first, then less often (the status tick also enqueues it).
    const waits = (this.#waits.get(key) ?? 0) + 1;
    this.#waits.set(key, waits);
    return { requeueAfter: requeueDelay(waits) };
  }

  /**
   * A peer's connection: an applied peer whose desired state is unchanged is only read (its status); a new
   * or changed one joins the next batch (see #flush).
   */
  async #connect(key: string, d: PeerDesired): Promise<ConnectionStatus> {
    const applied = this.#peers.get(key);
    if (applied && !this.#pending.has(key) && jsonEqual(applied, d)) {
      const st = (await this.#snapshotStatus(d.clusterId)) ?? (await this.#o.datapath.cables.status(d.clusterId).catch(() => undefined));
      if (st) return st;
    }
    this.#waits.delete(key);
    return this.#enqueueApply(key, d, false);
  }

  /**
   * A peer's status from one read of every connection shared by the reconciles of the next
   * STATUS_SNAPSHOT_MS (the status tick enqueues every peer at once: one device read, not one per peer).
   */
  async #snapshotStatus(clusterId: string): Promise<ConnectionStatus | undefined> {
    const now = performance.now();
    if (!this.#snapshot || now - this.#snapshot.at > STATUS_SNAPSHOT_MS) {
      const read = this.#o.datapath.cables.connections().then((list) => new Map(list.map((c) => [c.clusterId, c])));
      read.catch(() => undefined);
      this.#snapshot = { at: now, read };
    }
    return (await this.#snapshot.read.catch(() => undefined))?.get(clusterId);
  }

  /**
   * Queues a peer for the next batch. A resync never replaces a newer desired state already queued.
   * The first queued peer schedules the batch; peers queued until it starts join it.
   */
  #enqueueApply(key: string, d: PeerDesired, resync: boolean): Promise<ConnectionStatus> {
    return new Promise<ConnectionStatus>((resolve, reject) => {
      const queued = this.#pending.get(key);
      if (queued) {
        if (!resync) {
          queued.d = d;
          queued.resync = false;
        }
        queued.waiters.push({ resolve, reject });
      } else {
        this.#pending.set(key, { d, resync, waiters: [{ resolve, reject }] });
      }
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        void this.#serial(() => this.#flush());
      }
    });
  }

  /**
   * One batch of peers: the kernel work of all peers that changed since the previous batch, done once —
   * health-check addresses (when one of them added, moved or dropped a remap), the drivers' connects
   * (issued together, so a driver writes them in one go), then the host rules/routes and remap NAT of the
   * whole peer set, diffed against what is applied. Its cost grows with the batch, not with every peer.
   */
  async #flush(): Promise<void> {
    this.#flushQueued = false;
    const verify = this.#verifyNext;
    this.#verifyNext = false;
    const queued = [...this.#pending.entries()];
    this.#pending.clear();
    // A resync of a peer removed meanwhile (its TunnelEndpoint deleted) must not bring it back.
    for (const [key, q] of queued) if (q.resync && !this.#peers.has(key)) for (const w of q.waiters) w.reject(new NotLeader());
    const batch = queued.filter(([key, q]) => !q.resync || this.#peers.has(key)).map(([key, q]) => ({ key, d: q.d, waiters: q.waiters }));
    if (batch.length === 0) return;
    this.#batches++;
    const settle = (key: string, r: PromiseSettledResult<ConnectionStatus> | { status: 'rejected'; reason: unknown }): void => {
      for (const w of batch.find((b) => b.key === key)?.waiters ?? []) {
        if (r.status === 'fulfilled') w.resolve(r.value);
        else w.reject(r.reason);
      }
    };
    if (!this.#isLeader()) {
      for (const b of batch) settle(b.key, { status: 'rejected', reason: new NotLeader() });
      return;
    }
    try {
      const plan = batchPlan(this.#peers, batch);
      for (const id of plan.disconnect) await this.#o.datapath.disconnect(id);
      // A remapped peer's health-check address must exist before its driver routes from it.
      if (plan.healthChanged) await this.#o.datapath.applyHealthAddresses(plan.peersAfter);
      // The drivers' connects and the host state of the whole peer set at once (as at activation); a peer
      // that did not connect is taken out of the host state again right after.
      const host = this.#o.datapath.applyPeers(plan.peersAfter, { verify });
      host.catch(() => undefined); // awaited below, after the connects
      const results = await Promise.allSettled(batch.map((b) => this.#o.datapath.connect(b.d)));
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') this.#peers.set(batch[i]!.key, batch[i]!.d);
      });
      await host;
      if (results.some((r) => r.status === 'rejected')) await this.#o.datapath.applyPeers([...this.#peers.values()]);
      // Status reads from now on see this batch's peers.
      this.#snapshot = undefined;
      results.forEach((r, i) => settle(batch[i]!.key, r));
    } catch (e) {
      // Not applied as a whole: the batch's peers are applied again on their retry (not taken for done).
      for (const b of batch) {
        if (this.#peers.get(b.key) === b.d) this.#peers.delete(b.key);
        settle(b.key, { status: 'rejected', reason: e });
      }
    }
  }

  /** Batches of peers applied while active (for tests). */
  get batches(): number {
    return this.#batches;
  }

  /**
   * Drift repair, at most every RESYNC_MS: every applied peer through one batch that diffs everything
   * against the kernel (an unchanged datapath costs reads only, not writes).
   */
  async #resync(): Promise<void> {
    const peers = [...this.#peers.entries()];
    if (peers.length === 0 || performance.now() - this.#resyncedAt < RESYNC_MS) return;
    this.#resyncedAt = performance.now();
    this.#verifyNext = true;
    const results = await Promise.allSettled(peers.map(([key, d]) => this.#enqueueApply(key, d, true)));
    const failed = results.filter((r) => r.status === 'rejected' && !(r.reason instanceof NotLeader));
    if (failed.length > 0) this.#log.warn({ peers: failed.length, err: errText((failed[0] as PromiseRejectedResult).reason) }, 'resync of the applied peers failed; retried on the next tick');
  }

  async #removePeer(key: string): Promise<void> {
    await this.#serial(async () => {
      const prev = this.#peers.get(key);
      this.#peers.delete(key);
      this.#statuses.delete(key);
      this.#phases.delete(key);
      this.#waits.delete(key);
      if (prev) {
        await this.#o.datapath.disconnect(prev.clusterId);
        this.#o.metrics?.forget(prev.clusterId);
      }
      await this.#o.datapath.applyPeers([...this.#peers.values()]);
    });
  }

  async #writeStatus(obj: TunnelEndpoint, v: { phase: TunnelEndpointStatus['phase']; reason: string; message: string }, st?: ConnectionStatus): Promise<void> {
    const cur = obj.status ?? {};
    const conditions = setCondition(cur.conditions as never, {
      type: 'Ready',
      status: v.phase === 'Connected' ? 'True' : 'False',
      reason: v.reason,
      message: v.message.slice(0, 1024),
      observedGeneration: obj.metadata?.generation,
    });
    const next: TunnelEndpointStatus = {
      phase: v.phase,
      ...(st?.interface ? { interface: st.interface } : cur.interface ? { interface: cur.interface } : {}),
      ...(st?.lastHandshake ? { lastHandshakeTime: st.lastHandshake } : cur.lastHandshakeTime ? { lastHandshakeTime: cur.lastHandshakeTime } : {}),
      ...(st?.rtt && st.rtt.samples > 0
        ? { latency: { lastMs: st.rtt.avgMs, minMs: st.rtt.minMs, averageMs: st.rtt.avgMs, maxMs: st.rtt.maxMs, stdDevMs: st.rtt.stddevMs, samples: st.rtt.samples } }
        : {}),
      ...(obj.metadata?.generation !== undefined ? { observedGeneration: obj.metadata.generation } : {}),
      conditions: conditions as TunnelEndpointStatus['conditions'],
    };
    if (jsonEqual(cur, next)) return;
    try {
      await this.#o.teps.patchStatus({ namespace: obj.metadata?.namespace, name: obj.metadata?.name ?? '' }, { status: next }, { type: 'merge' });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** The cluster's sole Endpoint (leader): this gateway; other Endpoints of this cluster are deleted. */
  async #writeEndpoint(): Promise<void> {
    const ep = this.#o.endpoint;
    if (!ep || !this.#isLeader()) return;
    const subnets = [...this.#o.local.podCidrs];
    if (subnets.length === 0) {
      this.#log.warn('no --pod-cidrs: the Endpoint is not written');
      this.#endpointWritten = true;
      return;
    }
    const name = this.#o.clusterId;
    const { offer } = ep;
    if (!offer.backend) {
      this.#log.warn({ leftOut: offer.leftOut.map((l) => l.reason) }, 'no cable driver can be offered: the Endpoint is not written');
      this.#endpointWritten = true;
      return;
    }
    const body = {
      apiVersion: 'net.strait.io/v1alpha1',
      kind: 'Endpoint',
      metadata: { name, namespace: this.#o.namespace },
      spec: {
        clusterID: this.#o.clusterId,
        hostname: this.#o.nodeName,
        privateIP: ep.ip,
        backend: offer.backend,
        backendConfig: offer.backendConfig,
        subnets,
        ...(this.#o.local.healthCheckIp ? { healthCheckIP: this.#o.local.healthCheckIp } : {}),
      },
    };
    const written = await this.#o.endpoints.apply(body as never, { fieldManager: FIELD_MANAGER, force: true });
    // Asked-for backends this gateway cannot run (key material missing): offered no more, reported once per leadership.
    if (!this.#endpointWritten) {
      for (const l of offer.leftOut) {
        this.#log.warn({ backend: l.backend }, l.reason);
        void this.#recorder.warning(written, 'BackendNotOffered', l.reason, { descriptor: EndpointResource, action: 'Advertise' });
      }
    }
    const all = await this.#o.endpoints.list({ namespace: this.#o.namespace });
    for (const other of all.items) {
      if (other.spec?.clusterID === this.#o.clusterId && other.metadata?.name !== name) {
        await this.#o.endpoints.delete({ namespace: this.#o.namespace, name: other.metadata?.name ?? '' }).catch(() => false);
        this.#log.info({ endpoint: objectKey(other) }, 'deleted a stale Endpoint of this cluster');
      }
    }
    this.#endpointWritten = true;
  }

  /** This replica's Gateway object: role and connections. */
  async #writeGatewayStatus(): Promise<void> {
    const connections: GatewayConnection[] = [];
    if (this.#active) {
      const conns = await this.#o.datapath.cables.connections().catch(() => [] as ConnectionStatus[]);
      for (const c of conns) {
        this.#o.metrics?.observe(c);
        connections.push({
          cluster: c.clusterId,
          status: c.state,
          rxBytes: c.rxBytes,
          txBytes: c.txBytes,
          ...(c.lastHandshake ? { lastHandshakeTime: c.lastHandshake } : {}),
          ...(c.rtt && c.rtt.samples > 0
            ? { latency: { lastMs: c.rtt.avgMs, minMs: c.rtt.minMs, averageMs: c.rtt.avgMs, maxMs: c.rtt.maxMs, stdDevMs: c.rtt.stddevMs, samples: c.rtt.samples } }
            : {}),
          ...(c.state === 'Error' ? { message: c.message.slice(0, 1024) } : {}),
        });
      }
    }
    const status = { role: this.#role, node: this.#o.nodeName, connections, lastTransitionTime: this.#roleSince };
    if (jsonEqual(status, this.#lastGatewayStatus)) return;
    const ref = { apiVersion: 'net.strait.io/v1alpha1', kind: 'Gateway', metadata: { name: this.#o.podName, namespace: this.#o.namespace } };
    const manager = `${FIELD_MANAGER}-${this.#o.podName}`.slice(0, 128);
    try {
      await this.#o.gateways.applyStatus({ ...ref, status } as never, { fieldManager: manager, force: true });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.#o.gateways.apply({ ...ref, spec: { node: this.#o.nodeName, clusterID: this.#o.clusterId } } as never, { fieldManager: manager, force: true });
      await this.#o.gateways.applyStatus({ ...ref, status } as never, { fieldManager: manager, force: true });
    }
    this.#lastGatewayStatus = status;
  }
}

class NotLeader extends Error {}

/** How long one read of every connection serves the reconciles' status reads. */
export const STATUS_SNAPSHOT_MS = 250;

/** How often the applied peers are re-applied as a whole (drift repair; unchanged state costs reads only). */
export const RESYNC_MS = 10_000;

export interface BatchPlan {
  /** Peers whose cluster id changed: their old peer is disconnected first. */
  readonly disconnect: readonly string[];
  /** A remap's health-check address added, moved or dropped: the addresses are re-applied (once). */
  readonly healthChanged: boolean;
  /** The peer set once the batch is applied. */
  readonly peersAfter: readonly PeerDesired[];
}

/** What one batch of desired peers changes against the applied ones (pure). */
export function batchPlan(applied: ReadonlyMap<string, PeerDesired>, batch: readonly { key: string; d: PeerDesired }[]): BatchPlan {
  const after = new Map(applied);
  const disconnect: string[] = [];
  let healthChanged = false;
  for (const { key, d } of batch) {
    const prev = applied.get(key);
    if (prev && prev.clusterId !== d.clusterId) disconnect.push(prev.clusterId);
    if (d.healthAddress !== prev?.healthAddress) healthChanged = true;
    after.set(key, d);
  }
  return { disconnect, healthChanged, peersAfter: [...after.values()] };
}

/** Requeue delay of a peer not connected yet, by how many times it was looked at: 0.5 s doubling to 5 s. */
export function requeueDelay(waits: number): number {
  return Math.min(500 * 2 ** Math.max(0, waits - 1), 5_000);
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
