/**
 * A small builder of Grafana dashboard JSON (schema 39) for Strait's dashboards: every panel queries the
 * Prometheus data source chosen by the `datasource` variable, filtered by the `namespace` variable.
 */

export interface Target {
  readonly expr: string;
  readonly legend?: string;
}

export interface PanelSpec {
  readonly title: string;
  readonly type: 'stat' | 'timeseries' | 'table' | 'bargauge' | 'text';
  readonly description: string;
  readonly targets?: readonly Target[];
  readonly unit?: string;
  /** Width in grid units (24 = full row). */
  readonly w?: number;
  readonly h?: number;
  /** Text panels: markdown. */
  readonly content?: string;
  readonly instant?: boolean;
}

export interface RowSpec {
  readonly row: string;
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly panels: ReadonlyArray<PanelSpec | RowSpec>;
  /** Extra template variables: name → label_values() query. */
  readonly variables?: ReadonlyArray<{ name: string; label: string; query: string }>;
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

function variable(name: string, label: string, query: string): Record<string, unknown> {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    query: { query, refId: `${name}-values` },
    definition: query,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
  };
}

/** The Grafana JSON model of a dashboard. */
export function buildDashboard(spec: DashboardSpec): Record<string, unknown> {
  const panels: Array<Record<string, unknown>> = [];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  let id = 1;
  for (const p of spec.panels) {
    if ('row' in p) {
      if (x > 0) y += rowHeight;
      x = 0;
      rowHeight = 0;
      panels.push({ id: id++, type: 'row', title: p.row, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
      y += 1;
      continue;
    }
    const w = p.w ?? 12;
    const h = p.h ?? (p.type === 'stat' ? 4 : 8);
    if (x + w > 24) {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
    }
    const panel: Record<string, unknown> = {
      id: id++,
      type: p.type,
      title: p.title,
      description: p.description,
      gridPos: { h, w, x, y },
    };
    if (p.type === 'text') {
      panel['options'] = { mode: 'markdown', content: p.content ?? '' };
    } else {
      panel['datasource'] = DATASOURCE;
      panel['fieldConfig'] = { defaults: { unit: p.unit ?? 'short' }, overrides: [] };
      panel['targets'] = (p.targets ?? []).map((t, i) => ({
        refId: String.fromCharCode(65 + i),
        datasource: DATASOURCE,
        expr: t.expr,
        legendFormat: t.legend ?? '__auto',
        range: !(p.instant ?? (p.type === 'stat' || p.type === 'table' || p.type === 'bargauge')),
        instant: p.instant ?? (p.type === 'stat' || p.type === 'table' || p.type === 'bargauge'),
      }));
      if (p.type === 'stat') panel['options'] = { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'none' };
      if (p.type === 'table') panel['transformations'] = [{ id: 'labelsToFields', options: {} }];
    }
    panels.push(panel);
    x += w;
    rowHeight = Math.max(rowHeight, h);
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['strait'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    timezone: '',
    links: [{ type: 'dashboards', tags: ['strait'], title: 'Strait', asDropdown: true, includeVars: true, keepTime: true }],
    annotations: { list: [] },
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0 },
        variable('namespace', 'Namespace', 'label_values(strait_build_info, namespace)'),
        ...(spec.variables ?? []).map((v) => variable(v.name, v.label, v.query)),
      ],
    },
    panels,
  };
}

/** Every PromQL expression of a dashboard JSON model, with the panel title (variables still in place). */
export function dashboardQueries(model: { panels?: Array<Record<string, unknown>> }): Array<{ panel: string; expr: string }> {
  const out: Array<{ panel: string; expr: string }> = [];
  const walk = (panels: Array<Record<string, unknown>>): void => {
    for (const p of panels) {
      for (const t of (p['targets'] ?? []) as Array<{ expr?: string }>) if (t.expr) out.push({ panel: String(p['title']), expr: t.expr });
      walk((p['panels'] ?? []) as Array<Record<string, unknown>>);
    }
  };
  walk(model.panels ?? []);
  return out;
}
