import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DASHBOARD_DIR, REPO_ROOT } from '../paths.ts';
import { renderDashboardFiles } from './files.ts';
import { dashboardQueries } from './grafana.ts';
import { vectorSelectors } from './promql.ts';

/** Series that come from Prometheus itself or prom-client's default process/Node.js metrics. */
const NOT_FROM_STRAIT = [/^up$/, /^process_/, /^nodejs_/];

/** A histogram's series are <name>_bucket/_sum/_count; the code registers <name>. */
function registeredName(metric: string): string {
  return metric.replace(/_(bucket|sum|count)$/, '');
}

/** Metric names registered in the services' and libraries' sources (not tests). */
function metricNamesInSources(): Set<string> {
  const out = execFileSync('grep', ['-rhoE', "--include=*.ts", "--exclude=*.test.ts", "(name: |counter\\(registry, |gauge\\(registry, )'[a-z_:][a-z0-9_:]*'", 'apps', 'libs/observability', 'libs/bus', 'libs/kube', 'libs/drivers', 'libs/runtime'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  return new Set([...out.matchAll(/'([a-z_:][a-z0-9_:]*)'/g)].map((m) => m[1]!));
}

describe('dashboards', () => {
  const files = renderDashboardFiles();

  it('charts/strait/dashboards holds exactly the generated files (fails when stale)', () => {
    const hint = 'charts/strait/dashboards is stale: run `node libs/deploy/scripts/generate-dashboards.ts` and commit the result';
    for (const f of files) {
      expect(existsSync(f.path), `${hint} (${f.name} missing)`).toBe(true);
      expect(readFileSync(f.path, 'utf8'), `${hint} (${f.name} differs)`).toBe(f.content);
    }
    expect(readdirSync(DASHBOARD_DIR).sort()).toEqual(files.map((f) => f.name).sort());
  });

  it('covers overview, connections, gateway HA, NAT mappings, route agents and control-plane health', () => {
    expect(files.map((f) => f.name).sort()).toEqual(['connections.json', 'control-plane.json', 'gateway-ha.json', 'nat-mappings.json', 'overview.json', 'route-agents.json']);
  });

  it.each(files.map((f) => [f.name, f] as const))('%s: unique panel ids, a uid, every panel query on the chosen data source', (_name, f) => {
    const model = JSON.parse(f.content) as { uid: string; panels: Array<Record<string, unknown>>; templating: { list: Array<{ name: string }> } };
    expect(model.uid).toMatch(/^strait-[a-z-]+$/);
    const ids = model.panels.map((p) => p['id']);
    expect(new Set(ids).size).toBe(ids.length);
    expect(model.templating.list.map((v) => v.name)).toEqual(expect.arrayContaining(['datasource', 'namespace']));
    for (const p of model.panels) {
      if (p['type'] === 'row' || p['type'] === 'text') continue;
      expect(p['datasource'], String(p['title'])).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect((p['targets'] as unknown[]).length, String(p['title'])).toBeGreaterThan(0);
    }
    for (const q of dashboardQueries(model)) {
      for (const s of vectorSelectors(q.expr)) {
        if (NOT_FROM_STRAIT.some((r) => r.test(s.metric))) continue;
        expect(s.text, `${q.panel}: every Strait selector is filtered by namespace`).toContain('namespace=~"$namespace"');
      }
    }
  });

  it('names only metrics a Strait service registers (or Prometheus and prom-client defaults)', () => {
    const registered = metricNamesInSources();
    const unknown: string[] = [];
    for (const f of files) {
      for (const q of dashboardQueries(JSON.parse(f.content) as { panels: Array<Record<string, unknown>> })) {
        for (const s of vectorSelectors(q.expr)) {
          if (NOT_FROM_STRAIT.some((r) => r.test(s.metric))) continue;
          if (!registered.has(registeredName(s.metric))) unknown.push(`${f.name} / ${q.panel}: ${s.metric}`);
        }
      }
    }
    expect(unknown).toEqual([]);
  });
});
