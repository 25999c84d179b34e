import { createRegistry } from '@strait/observability';
import { describe, expect, it } from 'vitest';
import { BrokerSyncMetrics, SYNC_ERROR_STAGES } from './metrics.ts';

describe('BrokerSyncMetrics', () => {
  it('exposes every error stage, pass result and removal reason at 0 before anything happened (dashboards rate() them)', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    new BrokerSyncMetrics(registry);
    const text = await registry.metrics();
    for (const stage of SYNC_ERROR_STAGES) expect(text).toContain(`strait_broker_sync_errors_total{stage="${stage}"} 0`);
    for (const result of ['success', 'error']) expect(text).toContain(`strait_broker_sync_passes_total{result="${result}"} 0`);
    for (const reason of ['left', 'stale']) expect(text).toContain(`strait_broker_sync_removed_clusters_total{reason="${reason}"} 0`);
  });
});
