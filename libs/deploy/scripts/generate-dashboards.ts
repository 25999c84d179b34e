/**
 * Writes charts/strait/dashboards/*.json from libs/deploy/src/dashboards/definitions.ts.
 *
 *   node libs/deploy/scripts/generate-dashboards.ts          # write
 *   node libs/deploy/scripts/generate-dashboards.ts --check  # exit 1 when the files are stale
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderDashboardFiles } from '../src/dashboards/files.ts';
import { DASHBOARD_DIR } from '../src/paths.ts';

const files = renderDashboardFiles();
const existing = existsSync(DASHBOARD_DIR) ? readdirSync(DASHBOARD_DIR).filter((n) => n.endsWith('.json')) : [];
const stale = [
  ...files.filter((f) => !existsSync(f.path) || readFileSync(f.path, 'utf8') !== f.content).map((f) => f.name),
  ...existing.filter((n) => !files.some((f) => f.name === n)),
];
if (process.argv.includes('--check')) {
  if (stale.length > 0) {
    console.error(`charts/strait/dashboards is stale (${stale.join(', ')}): run \`node libs/deploy/scripts/generate-dashboards.ts\``);
    process.exit(1);
  }
  console.log('charts/strait/dashboards is up to date');
} else {
  mkdirSync(DASHBOARD_DIR, { recursive: true });
  for (const n of existing) if (!files.some((f) => f.name === n)) rmSync(join(DASHBOARD_DIR, n));
  for (const f of files) writeFileSync(f.path, f.content);
  console.log(`wrote ${files.length} dashboards${stale.length ? ` (changed: ${stale.join(', ')})` : ' (no changes)'}`);
}
