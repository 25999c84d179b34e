import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const launcher = fileURLToPath(new URL('../bin/straitctl.mjs', import.meta.url));
const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Node binaries to start the launcher with: this one (24) and an older system node when there is one. */
function nodes(): string[] {
  const out = [process.execPath];
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(candidate)) continue;
    const v = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim();
    if (Number(v.slice(1).split('.')[0]) < 24) out.push(candidate);
  }
  return out;
}

function run(node: string, args: string[], cwd = repoRoot) {
  const r = spawnSync(node, args, { cwd, encoding: 'utf8', timeout: 30_000, env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('straitctl as a process', () => {
  it('main.ts runs on Node 24', () => {
    const r = run(process.execPath, [main, 'version']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^straitctl \d+\.\d+\.\d+ \(node v24\./);
  });

  it.each(nodes())('the launcher started by %s runs straitctl on Node 24', (node) => {
    const r = run(node, [launcher, 'version', '--output=json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ node: expect.stringMatching(/^v24\./) });
  });

  it.each(nodes())('the launcher started by %s passes on exit code 2 and the one-line reason', (node) => {
    const r = run(node, [launcher, 'version', '--loud']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('straitctl: version: unknown flag --loud (see straitctl help version)\n');
  });

  it('works from another working directory', () => {
    const r = run(process.execPath, [launcher, 'help'], '/');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: straitctl <command> [flags]');
  });
});
