import { renderDashboardFiles, type DashboardFile } from './files.ts';
import { dashboardQueries } from './grafana.ts';
import { LocalPrometheus, promtool, type ScrapeTarget } from './prometheus.ts';
import { substituteVariables, vectorSelectors } from './promql.ts';

/**
 * Strait's dashboards checked against what running services export: Debian's Prometheus scrapes them, then
 * every panel query must evaluate (`promtool query instant`, Grafana variables substituted) and every vector
 * selector in it must match at least one scraped series. Used by the integration test (one cluster) and
 * by the lab's e2e test (two clusters joined through a Broker, after a failover).
 */

/** A service's /metrics endpoint. */
export interface MetricsTarget {
  readonly service: string;
  /** host:port serving /metrics */
  readonly address: string;
  /** Extra target labels (e.g. namespace, cluster). */
  readonly labels?: Record<string, string>;
}

/** Metric name → why no series of it can exist where the check runs (kept out of the selector check only). */
export type Exemptions = ReadonlyMap<string, string>;

export interface DashboardCheck {
  /** The dashboard file name, e.g. connections.json */
  readonly dashboard: string;
  readonly queries: number;
  readonly selectors: number;
  /** Queries Prometheus refused: `panel: error`. */
  readonly failed: string[];
  /** Selectors without a series: `panel: selector`. */
  readonly missing: string[];
  /** Selectors not checked, with the reason: `panel: selector (reason)`. */
  readonly exempted: string[];
}

/** Starts Prometheus scraping every target (job `strait-<service>`, `service_name` label) every 2 s. */
export function scrapeServices(port: number, targets: readonly MetricsTarget[]): Promise<LocalPrometheus> {
  const scrape: ScrapeTarget[] = targets.map((t) => ({ address: t.address, job: `strait-${t.service}`, labels: { ...t.labels, service_name: t.service } }));
  return LocalPrometheus.start(port, scrape);
}

/**
 * Waits until every target was scraped up at least once, `minMs` has passed (so rate() has two samples)
 * and `ready` (if given) holds; throws with the targets' health after `timeoutMs`. Returns the time waited.
 */
export async function waitForScrapes(
  p: LocalPrometheus,
  targets: readonly MetricsTarget[],
  opts: { minMs?: number; timeoutMs?: number; ready?: () => Promise<boolean>; context?: () => string } = {},
): Promise<number> {
  const t0 = performance.now();
  const minMs = opts.minMs ?? 5_000;
  const timeoutMs = opts.timeoutMs ?? 150_000;
  const seenUp = new Set<string>();
  for (;;) {
    const up = await p.targets();
    for (const t of up) if (t.health === 'up') seenUp.add(t.instance);
    const allUp = targets.every((t) => seenUp.has(t.address));
    const waited = performance.now() - t0;
    if (allUp && waited >= minMs && (opts.ready === undefined || (await opts.ready()))) return waited;
    if (waited > timeoutMs) {
      const down = up.filter((t) => !seenUp.has(t.instance));
      throw new Error(
        `after ${Math.round(waited / 1000)} s: ${allUp ? 'every target up but not ready' : `targets never up: ${JSON.stringify(down)}`}${opts.context ? `\n${opts.context()}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** `promtool check metrics` of a target's scrape; prom-client's default nodejs_/process_ metrics draw naming complaints and are left out. */
export async function lintMetrics(address: string): Promise<string[]> {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  const lint = await promtool(['check', 'metrics'], text);
  return `${lint.stdout}${lint.stderr}`.split('\n').filter((l) => l.trim() !== '' && !/^(nodejs|process)_/.test(l));
}

/** One dashboard against a Prometheus: every query evaluated, every selector counted (exempt metrics excepted). */
export async function checkDashboard(p: LocalPrometheus, file: DashboardFile, opts: { exempt?: Exemptions; rateInterval?: string } = {}): Promise<DashboardCheck> {
  const failed: string[] = [];
  const missing: string[] = [];
  const exempted: string[] = [];
  let selectors = 0;
  const queries = dashboardQueries(JSON.parse(file.content) as { panels: Array<Record<string, unknown>> });
  const counted = new Map<string, boolean>();
  for (const q of queries) {
    const expr = substituteVariables(q.expr, { rateInterval: opts.rateInterval ?? '10s' });
    await p.query(expr).catch((e: unknown) => failed.push(`${q.panel}: ${String(e)}`));
    for (const s of vectorSelectors(expr)) {
      selectors++;
      const reason = opts.exempt?.get(s.metric);
      if (reason !== undefined) {
        exempted.push(`${q.panel}: ${s.text} (${reason})`);
        continue;
      }
      let found = counted.get(s.text);
      if (found === undefined) {
        found = (await p.query(`count(${s.text})`)).length > 0;
        counted.set(s.text, found);
      }
      if (!found) missing.push(`${q.panel}: ${s.text}`);
    }
  }
  return { dashboard: file.name, queries: queries.length, selectors, failed, missing, exempted };
}

/** Every dashboard of the chart (generated from definitions.ts) against a Prometheus. */
export async function checkDashboards(
  p: LocalPrometheus,
  opts: { exempt?: Exemptions; rateInterval?: string; files?: readonly DashboardFile[] } = {},
): Promise<DashboardCheck[]> {
  const out: DashboardCheck[] = [];
  for (const f of opts.files ?? renderDashboardFiles()) out.push(await checkDashboard(p, f, opts));
  return out;
}

/** A one-line-per-dashboard summary: queries, selectors, and what failed, was missing or was exempted. */
export function formatDashboardChecks(checks: readonly DashboardCheck[]): string {
  return checks
    .map((c) => {
      const head = `${c.dashboard}: ${c.queries} queries, ${c.selectors} selectors, ${c.failed.length} refused, ${c.missing.length} missing, ${c.exempted.length} exempted`;
      return [head, ...c.failed.map((x) => `  refused  ${x}`), ...c.missing.map((x) => `  missing  ${x}`), ...c.exempted.map((x) => `  exempted ${x}`)].join('\n');
    })
    .join('\n');
}
