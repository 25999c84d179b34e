/**
 * labeler-operator wiring: the labeler reconciler, its own leader election (only the leader writes labels),
 * the NATS leader hint, Events and metrics. main.ts runs this inside runService; tests run it in-process.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { GatewayLeaderSubject, type Bus, type BusSubscription } from '@strait/bus';
import {
  CrClient,
  EventRecorder,
  EventResource,
  LeaderElector,
  LeaseResource,
  PodResource,
  RestClient,
  leaseElectionOptions,
  type EventsV1Event,
  type Lease,
  type LeaseSettings,
  type ResourceClient,
} from '@strait/kube';
import { ControllerMetrics, type Logger, type Registry } from '@strait/observability';
import type { GatewayPod } from './gateway-roles.ts';
import { GatewayLabeler } from './labeler.ts';
import { LabelerMetrics } from './labeler-metrics.ts';

/** Field manager of the labeler's writes and reportingController of its Events. */
export const FIELD_MANAGER = 'strait-labeler-operator';
export const REPORTING_CONTROLLER = 'net.strait.io/labeler-operator';

export interface LabelerClients {
  pods: ResourceClient<GatewayPod>;
  /** Reads and watches the gateway Lease. */
  gatewayLeases: ResourceClient<Lease>;
  /** The labeler's own leader-election Lease. */
  electionLeases: ResourceClient<Lease>;
  events: ResourceClient<EventsV1Event>;
}

export interface LabelerOperatorOptions {
  /** Builds the clients not given in `clients`. */
  kubeConfig?: KubeConfig | undefined;
  clients?: Partial<LabelerClients> | undefined;
  /** NATS: leader hints of this cluster. Without it the labeler follows the Lease watch alone. */
  bus?: Bus | undefined;
  clusterId: string;
  /** Namespace of the gateway Lease, the gateway pods and the labeler's own Lease. */
  namespace: string;
  gatewayLeaseName: string;
  podSelector: string;
  /** This replica's identity in the labeler's leader election (its pod name). */
  identity: string;
  election: LeaseSettings;
  logger: Logger;
  registry?: Registry | undefined;
  /** Wall clock for Lease expiry (tests). */
  now?: () => number;
}

export interface LabelerOperator {
  readonly labeler: GatewayLabeler;
  readonly elector: LeaderElector;
  /** Stops writing, releases the labeler's Lease, stops the informers and the hint subscription. */
  stop(): Promise<void>;
}

function clientsFrom(o: LabelerOperatorOptions): LabelerClients {
  const given = o.clients ?? {};
  let rest: RestClient | undefined;
  const restClient = (): RestClient => {
    if (!o.kubeConfig) throw new TypeError('labeler-operator: kubeConfig is required when clients are not all given');
    rest ??= new RestClient(o.kubeConfig);
    return rest;
  };
  const opts = { fieldManager: FIELD_MANAGER };
  return {
    pods: given.pods ?? new CrClient<GatewayPod>(restClient(), PodResource, opts),
    gatewayLeases: given.gatewayLeases ?? new CrClient<Lease>(restClient(), LeaseResource, opts),
    electionLeases: given.electionLeases ?? new CrClient<Lease>(restClient(), LeaseResource, opts),
    events: given.events ?? new CrClient<EventsV1Event>(restClient(), EventResource, opts),
  };
}

export function startLabelerOperator(o: LabelerOperatorOptions): LabelerOperator {
  const log = o.logger;
  const clients = clientsFrom(o);
  const controllerMetrics = o.registry ? new ControllerMetrics(o.registry) : undefined;
  const labeler = new GatewayLabeler({
    pods: clients.pods,
    leases: clients.gatewayLeases,
    namespace: o.namespace,
    leaseName: o.gatewayLeaseName,
    podSelector: o.podSelector,
    logger: log,
    recorder: new EventRecorder({ client: clients.events, reportingController: REPORTING_CONTROLLER, reportingInstance: o.identity, logger: log }),
    metrics: o.registry ? new LabelerMetrics(o.registry) : undefined,
    workqueueMetrics: controllerMetrics?.workqueue('labeler'),
    reconcileMetrics: controllerMetrics?.reconciler('labeler'),
    ...(o.now ? { now: o.now } : {}),
  });

  let stopping: Promise<void> | undefined;
  const elector: LeaderElector = new LeaderElector({
    client: clients.electionLeases,
    namespace: o.namespace,
    identity: o.identity,
    ...leaseElectionOptions(o.election),
    logger: log,
    metrics: controllerMetrics?.leader(o.election.leaseName),
    callbacks: {
      onStartedLeading: (signal) => {
        if (stopping) return;
        void labeler.startReconciling({ mayWrite: () => elector.isLeader(), signal });
        signal.addEventListener('abort', () => void labeler.stopReconciling(), { once: true });
      },
    },
  });

  let subscription: BusSubscription | undefined;
  if (o.bus) {
    subscription = o.bus.subscribe(GatewayLeaderSubject, { cluster: o.clusterId }, (payload) => {
      // A hint: the labeler re-reads the Lease; the payload is only logged.
      log.debug({ holder: payload.holder, leaseTransitions: payload.leaseTransitions }, 'gateway leader hint received');
      labeler.hint('nats');
    });
  }

  labeler.start();
  elector.start();

  return {
    labeler,
    elector,
    stop() {
      stopping ??= (async () => {
        subscription?.unsubscribe();
        // Stop writing first, then release the Lease, so the next leader never overlaps with a write of ours.
        await labeler.stopReconciling();
        await elector.stop();
        await labeler.stop();
      })();
      return stopping;
    },
  };
}
