import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { API_CRD_DIR, CHART_CRDS, REPO_ROOT } from './paths.ts';

export interface CrdCopy {
  /** Absolute path of the chart's copy (charts/<chart>/crds/<file>). */
  readonly target: string;
  /** What libs/api generated. */
  readonly content: string;
}

/** Every CRD file each chart must carry, with the content libs/api generated for it. */
export function wantedCrdCopies(): CrdCopy[] {
  const out: CrdCopy[] = [];
  for (const [chart, files] of Object.entries(CHART_CRDS)) {
    for (const file of files) {
      const source = join(API_CRD_DIR, file);
      if (!existsSync(source)) throw new Error(`${relative(REPO_ROOT, source)} is missing: run \`npm run generate\``);
      out.push({ target: join(chart, 'crds', file), content: readFileSync(source, 'utf8') });
    }
  }
  return out;
}

/** Chart CRD files that differ from libs/api's output, are missing, or are no longer generated (repo-relative). */
export function staleCrdCopies(): string[] {
  const wanted = wantedCrdCopies();
  const stale = wanted.filter((c) => !existsSync(c.target) || readFileSync(c.target, 'utf8') !== c.content).map((c) => relative(REPO_ROOT, c.target));
  for (const chart of Object.keys(CHART_CRDS)) {
    const dir = join(chart, 'crds');
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!wanted.some((c) => c.target === path)) stale.push(relative(REPO_ROOT, path));
    }
  }
  return stale;
}

export const SYNC_HINT = 'run `npx nx run @strait/deploy:sync-charts` (node libs/deploy/scripts/sync-charts.ts) and commit the result';
