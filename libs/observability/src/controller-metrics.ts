import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counter, exponentialBuckets, gauge, histogram } from './metrics.ts';

// Structural twins of the sinks @strait/kube defines (observability may not depend on kube).
export interface WorkqueueMetricsSink {
  setDepth(n: number): void;
  added(): void;
  queued(seconds: number): void;
  worked(seconds: number): void;
  retried(): void;
}
export type ReconcileResult = 'success' | 'error' | 'requeue' | 'requeue_after';
export interface ReconcileMetricsSink {
  observe(result: ReconcileResult, seconds: number): void;
}
export interface LeaderMetricsSink {
  setLeader(isLeader: boolean): void;
}

const RESULTS: readonly ReconcileResult[] = ['success', 'error', 'requeue', 'requeue_after'];

/** Reconcile latency buckets (seconds), 5 ms … 60 s. */
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 45, 60];
/** Workqueue wait/work buckets (seconds), 10 ns … 10 s in decades. */
const WORKQUEUE_BUCKETS = exponentialBuckets(1e-8, 10, 10);

/**
 * Controller metrics under the names operators already chart for client-go / controller-runtime
 * controllers, so existing dashboards work for Strait's operators unchanged.
 * Several instances on one registry share the same underlying metrics.
 */
export class ControllerMetrics {
  readonly #reconcileTotal: Counter<'controller' | 'result'>;
  readonly #reconcileErrors: Counter<'controller'>;
  readonly #reconcileTime: Histogram<'controller'>;
  readonly #depth: Gauge<'name'>;
  readonly #adds: Counter<'name'>;
  readonly #queueDuration: Histogram<'name'>;
  readonly #workDuration: Histogram<'name'>;
  readonly #retries: Counter<'name'>;
  readonly #leader: Gauge<'name'>;

  constructor(registry: Registry) {
    this.#reconcileTotal = counter(registry, {
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller and result.',
      labelNames: ['controller', 'result'] as const,
    });
    this.#reconcileErrors = counter(registry, {
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller.',
      labelNames: ['controller'] as const,
    });
    this.#reconcileTime = histogram(registry, {
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller.',
      labelNames: ['controller'] as const,
      buckets: RECONCILE_BUCKETS,
    });
    this.#depth = gauge(registry, { name: 'workqueue_depth', help: 'Current depth of the workqueue.', labelNames: ['name'] as const });
    this.#adds = counter(registry, { name: 'workqueue_adds_total', help: 'Total number of adds handled by the workqueue.', labelNames: ['name'] as const });
    this.#queueDuration = histogram(registry, {
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in the workqueue before being requested.',
      labelNames: ['name'] as const,
      buckets: WORKQUEUE_BUCKETS,
    });
    this.#workDuration = histogram(registry, {
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from the workqueue takes.',
      labelNames: ['name'] as const,
      buckets: WORKQUEUE_BUCKETS,
    });
    this.#retries = counter(registry, { name: 'workqueue_retries_total', help: 'Total number of retries handled by the workqueue.', labelNames: ['name'] as const });
    this.#leader = gauge(registry, {
      name: 'leader_election_master_status',
      help: 'Whether this process currently holds the lease (1) or not (0).',
      labelNames: ['name'] as const,
    });
  }

  /** Sink for one named workqueue. Its series exist (at zero) as soon as the sink is created. */
  workqueue(name: string): WorkqueueMetricsSink {
    const labels = { name };
    this.#depth.set(labels, 0);
    this.#adds.inc(labels, 0);
    this.#retries.inc(labels, 0);
    this.#queueDuration.zero(labels);
    this.#workDuration.zero(labels);
    return {
      setDepth: (n) => this.#depth.set(labels, n),
      added: () => this.#adds.inc(labels),
      queued: (seconds) => this.#queueDuration.observe(labels, seconds),
      worked: (seconds) => this.#workDuration.observe(labels, seconds),
      retried: () => this.#retries.inc(labels),
    };
  }

  /** Sink for one controller's reconciler. Every result series exists (at zero) from the start. */
  reconciler(controller: string): ReconcileMetricsSink {
    for (const result of RESULTS) this.#reconcileTotal.inc({ controller, result }, 0);
    this.#reconcileErrors.inc({ controller }, 0);
    this.#reconcileTime.zero({ controller });
    return {
      observe: (result, seconds) => {
        this.#reconcileTotal.inc({ controller, result });
        if (result === 'error') this.#reconcileErrors.inc({ controller });
        this.#reconcileTime.observe({ controller }, seconds);
      },
    };
  }

  /** Sink for one leader election (one Lease). Starts as not leader. */
  leader(name: string): LeaderMetricsSink {
    this.#leader.set({ name }, 0);
    return { setLeader: (isLeader) => this.#leader.set({ name }, isLeader ? 1 : 0) };
  }
}
