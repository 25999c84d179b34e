import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Charon, charonPlugins, missingCharonPlugins } from './charon.ts';

const root = mkdtempSync(join(tmpdir(), 'strait-unit-charon-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A charon install layout: `<root>/<name>/charon` and the given plugin objects under `plugins/`. */
function install(name: string, plugins: readonly string[] | undefined): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'charon'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  if (plugins) {
    mkdirSync(join(dir, 'plugins'));
    for (const p of plugins) writeFileSync(join(dir, 'plugins', `libstrongswan-${p}.so`), '');
  }
  return join(dir, 'charon');
}

describe('charon plugins', () => {
  const wanted = charonPlugins('libipsec');

  it('names the plugins without a shared object in the plugin directory', () => {
    const binary = install('partial', wanted.filter((p) => p !== 'openssl'));
    expect(missingCharonPlugins(binary, wanted)).toEqual(['openssl']);
    expect(missingCharonPlugins(install('full', wanted), wanted)).toEqual([]);
  });

  it('checks nothing when there is no plugin directory (plugins built in)', () => {
    expect(missingCharonPlugins(install('builtin', undefined), wanted)).toEqual([]);
  });

  it('refuses to start with a missing plugin, naming it and the package, before spawning anything', async () => {
    const charon = new Charon({ dir: join(root, 'state'), binary: install('no-openssl', wanted.filter((p) => p !== 'openssl')), kernelBackend: 'libipsec' });
    await expect(charon.start()).rejects.toThrow('charon plugins not installed: openssl (on Debian: apt-get install libstrongswan-standard-plugins libcharon-extra-plugins)');
    expect(charon.pid).toBeUndefined();
  });
});
