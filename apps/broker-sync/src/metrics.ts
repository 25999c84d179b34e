import { counter, gauge, histogram, type Registry } from '@strait/observability';
import type { Counter, Gauge, Histogram } from 'prom-client';

/** The stages of a sync pass whose failures strait_broker_sync_errors_total counts. */
export const SYNC_ERROR_STAGES = ['local', 'broker_read', 'export', 'import'] as const;

/** broker-sync's own metrics (reconcile and workqueue metrics come from ControllerMetrics). */
export class BrokerSyncMetrics {
  readonly remoteClusters: Gauge;
  readonly remaps: Gauge;
  readonly brokerUp: Gauge;
  readonly passes: Counter<'result'>;
  readonly errors: Counter<'stage'>;
  readonly skipped: Counter<'peer'>;
  readonly exports: Counter<'kind'>;
  readonly removed: Counter<'reason'>;
  readonly hintsPublished: Counter;
  readonly hintsReceived: Counter;
  readonly passDuration: Histogram;

  constructor(registry: Registry) {
    this.remoteClusters = gauge(registry, { name: 'strait_broker_sync_remote_clusters', help: 'Remote clusters imported (a TunnelEndpoint is produced for each).' });
    this.remaps = gauge(registry, { name: 'strait_broker_sync_remapped_clusters', help: 'Remote clusters addressed under a remapped pod CIDR.' });
    this.brokerUp = gauge(registry, { name: 'strait_broker_sync_broker_up', help: '1 while the last exchange with the Broker succeeded.' });
    this.passes = counter(registry, { name: 'strait_broker_sync_passes_total', help: 'Sync passes, by result.', labelNames: ['result'] as const });
    this.errors = counter(registry, { name: 'strait_broker_sync_errors_total', help: 'Sync errors, by stage (local, broker_read, export, import).', labelNames: ['stage'] as const });
    this.skipped = counter(registry, { name: 'strait_broker_sync_skipped_remote_objects_total', help: 'Passes in which a remote cluster was skipped (malformed objects or no remap possible), by cluster.', labelNames: ['peer'] as const });
    this.exports = counter(registry, { name: 'strait_broker_sync_exports_total', help: 'Objects written to the Broker, by kind.', labelNames: ['kind'] as const });
    this.removed = counter(registry, { name: 'strait_broker_sync_removed_clusters_total', help: 'Remote clusters whose TunnelEndpoint and NatMapping were removed, by reason (left, stale).', labelNames: ['reason'] as const });
    this.hintsPublished = counter(registry, { name: 'strait_broker_sync_endpoint_hints_published_total', help: 'Endpoint change hints published on NATS.' });
    this.hintsReceived = counter(registry, { name: 'strait_broker_sync_endpoint_hints_received_total', help: 'Endpoint change hints received from NATS (each triggers a re-read of the Broker).' });
    this.passDuration = histogram(registry, {
      name: 'strait_broker_sync_pass_duration_seconds',
      help: 'Duration of a sync pass (Broker read, export, local writes).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.brokerUp.set(0);
    this.remoteClusters.set(0);
    this.remaps.set(0);
    // Every known label value from the start: a rate() over an error counter needs the series before the first error.
    for (const stage of SYNC_ERROR_STAGES) this.errors.inc({ stage }, 0);
    for (const result of ['success', 'error']) this.passes.inc({ result }, 0);
    for (const reason of ['left', 'stale']) this.removed.inc({ reason }, 0);
  }
}
