import { join } from 'node:path';
import { DASHBOARD_DIR } from '../paths.ts';
import { DASHBOARDS } from './definitions.ts';
import { buildDashboard } from './grafana.ts';

export interface DashboardFile {
  readonly name: string;
  readonly path: string;
  readonly content: string;
}

/** The dashboard JSON files charts/strait/dashboards must hold (generated from definitions.ts). */
export function renderDashboardFiles(): DashboardFile[] {
  return DASHBOARDS.map((d) => {
    const name = `${d.uid.replace(/^strait-/, '')}.json`;
    return { name, path: join(DASHBOARD_DIR, name), content: `${JSON.stringify(buildDashboard(d), null, 2)}\n` };
  });
}
