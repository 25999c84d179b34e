#!/usr/bin/env node
// straitctl launcher: runs apps/straitctl/src/main.ts on Node 24 (TypeScript type stripping). When started by an
// older node, it re-executes with the repository's node (node_modules/.bin/node, the `node` devDependency).
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(realpathSync(fileURLToPath(import.meta.url)));
const main = join(here, '..', 'src', 'main.ts');
const major = Number(process.versions.node.split('.')[0]);

function findNode24() {
  for (let dir = here; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', '.bin', 'node');
    if (existsSync(candidate) && realpathSync(candidate) !== realpathSync(process.execPath)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

if (major >= 24) {
  await import(pathToFileURL(main).href);
} else {
  const node = findNode24();
  if (!node) {
    process.stderr.write(`straitctl: needs Node 24 (this is ${process.version}); run "npm ci" in the Strait repository or put Node 24 first on PATH\n`);
    process.exit(1);
  }
  const child = spawn(node, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('error', (err) => {
    process.stderr.write(`straitctl: cannot start ${node}: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
