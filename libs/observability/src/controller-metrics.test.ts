import { describe, expect, it } from 'vitest';
import { ControllerMetrics } from './controller-metrics.ts';
import { createRegistry } from './metrics.ts';

async function text(m: ReturnType<typeof createRegistry>): Promise<string> {
  return m.metrics();
}

describe('ControllerMetrics', () => {
  it('uses the client-go / controller-runtime names and types', async () => {
    const r = createRegistry({ defaultMetrics: false });
    const cm = new ControllerMetrics(r);
    cm.workqueue('tunnelendpoint');
    cm.reconciler('tunnelendpoint');
    cm.leader('strait-gateway');
    const t = await text(r);
    const types = Object.fromEntries([...t.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
    expect(types).toEqual({
      controller_runtime_reconcile_total: 'counter',
      controller_runtime_reconcile_errors_total: 'counter',
      controller_runtime_reconcile_time_seconds: 'histogram',
      workqueue_depth: 'gauge',
      workqueue_adds_total: 'counter',
      workqueue_queue_duration_seconds: 'histogram',
      workqueue_work_duration_seconds: 'histogram',
      workqueue_retries_total: 'counter',
      leader_election_master_status: 'gauge',
    });
    for (const result of ['success', 'error', 'requeue', 'requeue_after']) {
      expect(t).toContain(`controller_runtime_reconcile_total{controller="tunnelendpoint",result="${result}"} 0`);
    }
    expect(t).toContain('workqueue_depth{name="tunnelendpoint"} 0');
    expect(t).toContain('leader_election_master_status{name="strait-gateway"} 0');
  });

  it('workqueue sink records depth, adds, durations and retries', async () => {
    const r = createRegistry({ defaultMetrics: false });
    const q = new ControllerMetrics(r).workqueue('q');
    q.added();
    q.added();
    q.setDepth(2);
    q.queued(0.002);
    q.worked(0.5);
    q.retried();
    const t = await text(r);
    expect(t).toContain('workqueue_adds_total{name="q"} 2');
    expect(t).toContain('workqueue_depth{name="q"} 2');
    expect(t).toContain('workqueue_retries_total{name="q"} 1');
    expect(t).toContain('workqueue_queue_duration_seconds_count{name="q"} 1');
    expect(t).toContain('workqueue_work_duration_seconds_sum{name="q"} 0.5');
  });

  it('reconciler sink counts results and errors and observes time', async () => {
    const r = createRegistry({ defaultMetrics: false });
    const rec = new ControllerMetrics(r).reconciler('natmapping');
    rec.observe('success', 0.01);
    rec.observe('error', 0.02);
    rec.observe('requeue_after', 0.03);
    const t = await text(r);
    expect(t).toContain('controller_runtime_reconcile_total{controller="natmapping",result="success"} 1');
    expect(t).toContain('controller_runtime_reconcile_total{controller="natmapping",result="error"} 1');
    expect(t).toContain('controller_runtime_reconcile_total{controller="natmapping",result="requeue_after"} 1');
    expect(t).toContain('controller_runtime_reconcile_errors_total{controller="natmapping"} 1');
    expect(t).toContain('controller_runtime_reconcile_time_seconds_count{controller="natmapping"} 3');
  });

  it('leader sink toggles 0/1', async () => {
    const r = createRegistry({ defaultMetrics: false });
    const l = new ControllerMetrics(r).leader('lease');
    l.setLeader(true);
    expect(await text(r)).toContain('leader_election_master_status{name="lease"} 1');
    l.setLeader(false);
    expect(await text(r)).toContain('leader_election_master_status{name="lease"} 0');
  });

  it('two instances on one registry share the metrics', async () => {
    const r = createRegistry({ defaultMetrics: false });
    new ControllerMetrics(r).workqueue('a').added();
    new ControllerMetrics(r).workqueue('b').added();
    const t = await text(r);
    expect(t).toContain('workqueue_adds_total{name="a"} 1');
    expect(t).toContain('workqueue_adds_total{name="b"} 1');
  });
});
