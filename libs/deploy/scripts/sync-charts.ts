/**
 * Copies the CRD YAML libs/api generates into the charts (charts/strait/crds, charts/strait-broker/crds),
 * removing copies of kinds no longer generated, and renders the Broker's access model of libs/broker into
 * charts/strait-broker/templates/access-policy.yaml.
 *
 *   node libs/deploy/scripts/sync-charts.ts          # write
 *   node libs/deploy/scripts/sync-charts.ts --check  # exit 1 when a chart's copy is stale
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { BROKER_ACCESS_TEMPLATE, brokerAccessTemplate, staleChartTemplates } from '../src/broker-access-sync.ts';
import { SYNC_HINT, staleCrdCopies, wantedCrdCopies } from '../src/crd-sync.ts';
import { CHART_CRDS, REPO_ROOT } from '../src/paths.ts';

const stale = [...staleCrdCopies(), ...staleChartTemplates()];
if (process.argv.includes('--check')) {
  if (stale.length > 0) {
    console.error(`chart files are stale (${stale.join(', ')}): ${SYNC_HINT}`);
    process.exit(1);
  }
  console.log('chart CRDs and generated templates are up to date');
} else {
  const wanted = wantedCrdCopies();
  for (const chart of Object.keys(CHART_CRDS)) {
    const dir = join(chart, 'crds');
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir)) if (!wanted.some((c) => c.target === join(dir, name))) rmSync(join(dir, name));
  }
  for (const c of wanted) {
    mkdirSync(dirname(c.target), { recursive: true });
    writeFileSync(c.target, c.content);
  }
  writeFileSync(BROKER_ACCESS_TEMPLATE, brokerAccessTemplate());
  console.log(`wrote ${wanted.length} CRD files and ${relative(REPO_ROOT, BROKER_ACCESS_TEMPLATE)}${stale.length ? ` (changed: ${stale.map((s) => relative(REPO_ROOT, join(REPO_ROOT, s))).join(', ')})` : ' (no changes)'}`);
}
