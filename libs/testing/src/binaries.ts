import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The control-plane binaries tools/controlplane/build.sh produces. */
export const BINARY_NAMES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kubectl',
  'nats-server',
  'helm',
] as const;
export type BinaryName = (typeof BINARY_NAMES)[number];

/** Which versions.env key pins each binary. */
const VERSION_KEY: Record<BinaryName, string> = {
  etcd: 'ETCD_VERSION',
  'kube-apiserver': 'KUBERNETES_VERSION',
  'kube-controller-manager': 'KUBERNETES_VERSION',
  kubectl: 'KUBERNETES_VERSION',
  'nats-server': 'NATS_SERVER_VERSION',
  helm: 'HELM_VERSION',
};

/** Repository root, found from this file's location (libs/testing/src). */
export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const VERSIONS_FILE = join(REPO_ROOT, 'tools/controlplane/versions.env');
export const BUILD_HINT = 'run `bash tools/controlplane/build.sh`';

/**
 * Parses tools/controlplane/versions.env: `KEY=value` lines, `#` comments and blank lines ignored,
 * optional single or double quotes around the value. Anything else is an error naming the line.
 */
export function parseVersionsEnv(text: string, source = 'versions.env'): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`${source}:${i + 1}: expected KEY=value, got ${JSON.stringify(raw)}`);
    let value = (m[2] ?? '').trim();
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2] ?? '';
    else value = value.replace(/\s+#.*$/, '');
    out[m[1] as string] = value;
  });
  return out;
}

/** The binary cache root: ${STRAIT_CACHE_DIR:-$HOME/.cache/strait}. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['STRAIT_CACHE_DIR'] || join(homedir(), '.cache', 'strait');
}

/** Path of a binary inside the cache: <cache>/bin/<name>-<version>/<name>. */
export function binaryPath(name: BinaryName, versions: Record<string, string>, cache: string): string {
  const key = VERSION_KEY[name];
  const version = versions[key];
  if (!version) throw new Error(`${key} is missing from ${VERSIONS_FILE} (needed for ${name})`);
  return join(cache, 'bin', `${name}-${version}`, name);
}

export interface BinaryLocator {
  readonly versions: Readonly<Record<string, string>>;
  /** Absolute path of an existing executable; throws with the build hint when it is missing. */
  path(name: BinaryName): string;
  /** The pinned version of a binary, e.g. `v1.34.4` for kube-apiserver. */
  version(name: BinaryName): string;
}

/** Locates the cached binaries at the versions pinned in tools/controlplane/versions.env. */
export function locateBinaries(
  opts: { versionsFile?: string; cacheDir?: string } = {},
): BinaryLocator {
  const file = opts.versionsFile ?? VERSIONS_FILE;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read control-plane versions file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const versions = parseVersionsEnv(text, file);
  const cache = opts.cacheDir ?? cacheDir();
  return {
    versions,
    version(name) {
      const v = versions[VERSION_KEY[name]];
      if (!v) throw new Error(`${VERSION_KEY[name]} is missing from ${file} (needed for ${name})`);
      return v;
    },
    path(name) {
      const p = binaryPath(name, versions, cache);
      try {
        accessSync(p, constants.X_OK);
      } catch {
        throw new Error(`${name} ${versions[VERSION_KEY[name]]} is not built (expected an executable at ${p}); ${BUILD_HINT}`);
      }
      return p;
    },
  };
}
