import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VERSIONS_FILE, binaryPath, cacheDir, locateBinaries, parseVersionsEnv } from './binaries.ts';

describe('parseVersionsEnv', () => {
  it('reads KEY=value lines and skips comments and blank lines', () => {
    const text = '# pinned\nETCD_VERSION=v3.6.16\n\n  KUBERNETES_VERSION="v1.34.4"\nexport HELM_VERSION=\'v3.22.0\'\nNATS_SERVER_VERSION=v2.14.9 # trailing\n';
    expect(parseVersionsEnv(text)).toEqual({
      ETCD_VERSION: 'v3.6.16',
      KUBERNETES_VERSION: 'v1.34.4',
      HELM_VERSION: 'v3.22.0',
      NATS_SERVER_VERSION: 'v2.14.9',
    });
  });

  it('names the line of a malformed entry', () => {
    expect(() => parseVersionsEnv('A=1\nnot a pair\n', 'v.env')).toThrow('v.env:2: expected KEY=value');
  });

  it('parses the repository file with every version the binaries need', () => {
    const locator = locateBinaries({ cacheDir: '/nonexistent' });
    for (const key of ['ETCD_VERSION', 'KUBERNETES_VERSION', 'NATS_SERVER_VERSION', 'HELM_VERSION']) {
      expect(locator.versions[key]).toMatch(/^v\d+\.\d+\.\d+$/);
    }
    expect(VERSIONS_FILE).toMatch(/tools\/controlplane\/versions\.env$/);
  });
});

describe('binary paths', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('maps each binary to <cache>/bin/<name>-<version>/<name>', () => {
    const v = { ETCD_VERSION: 'v3.6.16', KUBERNETES_VERSION: 'v1.34.4', NATS_SERVER_VERSION: 'v2.14.9' };
    expect(binaryPath('etcd', v, '/c')).toBe('/c/bin/etcd-v3.6.16/etcd');
    expect(binaryPath('kube-controller-manager', v, '/c')).toBe('/c/bin/kube-controller-manager-v1.34.4/kube-controller-manager');
    expect(binaryPath('nats-server', v, '/c')).toBe('/c/bin/nats-server-v2.14.9/nats-server');
    expect(() => binaryPath('helm', v, '/c')).toThrow(/HELM_VERSION is missing/);
  });

  it('uses STRAIT_CACHE_DIR, else ~/.cache/strait', () => {
    expect(cacheDir({ STRAIT_CACHE_DIR: '/x' })).toBe('/x');
    expect(cacheDir({})).toMatch(/\.cache\/strait$/);
  });

  it('tells how to build a missing binary and finds a present one', () => {
    dir = mkdtempSync(join(tmpdir(), 'strait-bin-test-'));
    const versionsFile = join(dir, 'versions.env');
    writeFileSync(versionsFile, 'ETCD_VERSION=v9.9.9\nKUBERNETES_VERSION=v1.99.0\n');
    const locator = locateBinaries({ versionsFile, cacheDir: dir });
    expect(() => locator.path('kube-apiserver')).toThrow(
      /kube-apiserver v1\.99\.0 is not built .*run `bash tools\/controlplane\/build\.sh`/,
    );
    const etcdDir = join(dir, 'bin', 'etcd-v9.9.9');
    mkdirSync(etcdDir, { recursive: true });
    writeFileSync(join(etcdDir, 'etcd'), '#!/bin/sh\n');
    chmodSync(join(etcdDir, 'etcd'), 0o755);
    expect(locator.path('etcd')).toBe(join(etcdDir, 'etcd'));
    expect(locator.version('kubectl')).toBe('v1.99.0');
  });

  it('reports an unreadable versions file', () => {
    expect(() => locateBinaries({ versionsFile: '/nonexistent/versions.env' })).toThrow(/cannot read control-plane versions file/);
  });
});
