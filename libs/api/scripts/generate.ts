/**
 * Writes libs/api/crds/*.yaml from the TypeBox schemas in libs/api/src/resources.
 *
 *   npm run generate                              # write the files
 *   npx node libs/api/scripts/generate.ts --check # exit 1 when the files on disk are stale
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderCrdFiles } from '../src/crd/render.ts';

const dir = resolve(import.meta.dirname, '..', 'crds');
const check = process.argv.includes('--check');
const files = renderCrdFiles();
const wanted = new Set(files.map((f) => f.name));
const existing = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.yaml')) : [];

const stale = [
  ...files.filter((f) => !existsSync(join(dir, f.name)) || readFileSync(join(dir, f.name), 'utf8') !== f.content).map((f) => f.name),
  ...existing.filter((n) => !wanted.has(n)),
];

if (check) {
  if (stale.length > 0) {
    console.error(`libs/api/crds is stale (${stale.join(', ')}): run \`npm run generate\``);
    process.exit(1);
  }
  console.log('libs/api/crds is up to date');
} else {
  mkdirSync(dir, { recursive: true });
  for (const name of existing) if (!wanted.has(name)) rmSync(join(dir, name));
  for (const file of files) writeFileSync(join(dir, file.name), file.content);
  console.log(`wrote ${files.length} files to ${dir}${stale.length ? ` (changed: ${stale.join(', ')})` : ' (no changes)'}`);
}
