/**
 * Metrics sinks: @strait/kube reports through these interfaces; @strait/observability implements them
 * (prom-client) structurally. All are optional everywhere.
 */

export interface WorkqueueMetricsSink {
  setDepth(n: number): void;
  added(): void;
  /** Time an item waited in the queue before a worker took it. */
  queued(seconds: number): void;
  /** Time a worker spent on an item. */
  worked(seconds: number): void;
  retried(): void;
}

export interface ReconcileMetricsSink {
  observe(result: 'success' | 'error' | 'requeue' | 'requeue_after', seconds: number): void;
}

export interface LeaderMetricsSink {
  setLeader(isLeader: boolean): void;
}
