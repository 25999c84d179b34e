import type { Endpoint } from '@strait/api';
import { BrokerEndpointSubject, type Bus, type BusSubscription } from '@strait/bus';
import { Controller, LeaderElector, leaseElectionOptions, type Informer, type KubeObject, type Lease, type LeaseSettings, type LeaderMetricsSink, type ReconcileMetricsSink, type ResourceClient, type WorkqueueMetricsSink } from '@strait/kube';
import type { Logger } from 'pino';
import type { BrokerSyncMetrics } from './metrics.ts';
import { RETRY_CAP_MS, type BrokerSync } from './sync.ts';

const KEY = 'sync';

export interface BrokerSyncOperatorOptions {
  readonly clusterId: string;
  readonly namespace: string;
  readonly identity: string;
  readonly sync: BrokerSync;
  /** Informers whose changes trigger a pass (local objects and the Broker's). */
  readonly informers: ReadonlyArray<Informer<KubeObject>>;
  readonly leases: ResourceClient<Lease>;
  readonly election: LeaseSettings;
  readonly bus?: Bus | undefined;
  readonly metrics?: BrokerSyncMetrics | undefined;
  readonly controllerMetrics?: { workqueue(name: string): WorkqueueMetricsSink; reconciler(name: string): ReconcileMetricsSink; leader?(name: string): LeaderMetricsSink } | undefined;
  readonly logger: Logger;
}

/**
 * Runs the sync passes on the Lease holder only: every change seen by an informer (local or Broker), a
 * NATS endpoint hint, a heartbeat tick or a failure's backoff enqueues the one key; a pass re-reads the
 * Broker and the local objects (never acts on a hint's payload).
 */
export class BrokerSyncOperator {
  readonly controller: Controller;
  readonly elector: LeaderElector;
  readonly #o: BrokerSyncOperatorOptions;
  #subscription: BusSubscription | undefined;
  #starting: Promise<void> | undefined;

  constructor(o: BrokerSyncOperatorOptions) {
    this.#o = o;
    this.controller = new Controller({
      name: 'broker-sync',
      logger: o.logger,
      reconcile: async () => {
        if (!this.elector.isLeader()) return;
        const r = await o.sync.syncOnce();
        return { requeueAfter: r.nextInMs };
      },
      queue: { baseDelayMs: 250, maxDelayMs: RETRY_CAP_MS },
      workqueueMetrics: o.controllerMetrics?.workqueue('broker-sync'),
      reconcileMetrics: o.controllerMetrics?.reconciler('broker-sync'),
    });
    for (const inf of o.informers) this.controller.watch(inf, { keys: () => KEY });
    this.elector = new LeaderElector({
      client: o.leases,
      namespace: o.namespace,
      identity: o.identity,
      ...leaseElectionOptions(o.election),
      metrics: o.controllerMetrics?.leader?.(o.election.leaseName),
      logger: o.logger,
      callbacks: {
        onStartedLeading: () => {
          o.logger.info('leading: syncing with the Broker');
          this.controller.enqueue(KEY);
        },
        onStoppedLeading: () => o.logger.info('stopped leading'),
      },
    });
  }

  /** True once every informer has synced (the Broker's included). */
  get synced(): boolean {
    return this.#o.informers.every((i) => i.hasSynced());
  }

  start(): void {
    this.elector.start();
    // The workers start once every informer synced; with the Broker down that waits (local state stays).
    this.#starting = this.controller.start().catch((e: unknown) => this.#o.logger.error({ err: (e as Error).message }, 'controller did not start'));
    const bus = this.#o.bus;
    if (bus) {
      this.#subscription = bus.subscribe(BrokerEndpointSubject, {}, (msg) => {
        if (msg.cluster === this.#o.clusterId) return;
        this.#o.metrics?.hintsReceived.inc();
        this.controller.enqueue(KEY);
      });
    }
  }

  /** Publishes the hint that our Endpoint changed on the Broker (receivers re-read the Broker). */
  publishEndpoint(ep: Endpoint): void {
    const bus = this.#o.bus;
    const s = ep.spec;
    if (!bus || !s) return;
    const cfg = (s.backendConfig as Record<string, { port?: number } | undefined>)[s.backend];
    const sent = bus.publish(BrokerEndpointSubject, { cluster: this.#o.clusterId }, {
      cluster: this.#o.clusterId,
      endpoint: { publicIP: s.publicIP ?? s.privateIP, privateIP: s.privateIP, backend: s.backend, port: cfg?.port ?? 1, resourceVersion: ep.metadata?.resourceVersion ?? '0' },
      timestamp: new Date().toISOString(),
    });
    if (sent) this.#o.metrics?.hintsPublished.inc();
  }

  async stop(): Promise<void> {
    this.#subscription?.unsubscribe();
    await this.controller.stop();
    await this.#starting;
    await this.elector.stop({ release: true });
  }
}
