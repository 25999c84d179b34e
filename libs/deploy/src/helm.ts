import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locateBinaries } from '@strait/testing';
import { parseAllDocuments } from 'yaml';

/** A rendered Kubernetes object (what helm template prints, one per YAML document). */
export interface KubeManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HelmValuesOptions {
  /** Values as objects (each written to a temporary file and passed with -f, in order). */
  values?: ReadonlyArray<Record<string, unknown>>;
  /** --set assignments. */
  set?: ReadonlyArray<string>;
}

/** The helm binary built by tools/controlplane/build.sh (throws with the build hint when missing). */
export function helmPath(): string {
  return locateBinaries().path('helm');
}

/** Runs helm with an isolated home (no user repositories or plugins); never throws on a non-zero exit. */
export function runHelm(args: readonly string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<HelmResult> {
  const home = mkdtempSync(join(tmpdir(), 'strait-helm-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    ...opts.env,
  };
  return new Promise((resolve) => {
    execFile(helmPath(), [...args], { env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      rmSync(home, { recursive: true, force: true });
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Writes values objects to temporary files; returns the -f/--set arguments and a cleanup. */
export function valuesArgs(opts: HelmValuesOptions): { args: string[]; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'strait-values-'));
  const args: string[] = [];
  (opts.values ?? []).forEach((v, i) => {
    const file = join(dir, `values-${i}.json`);
    writeFileSync(file, JSON.stringify(v));
    args.push('-f', file);
  });
  for (const s of opts.set ?? []) args.push('--set', s);
  return { args, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Parses a multi-document YAML stream into objects (empty documents dropped). */
export function parseManifests(text: string): KubeManifest[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`rendered YAML does not parse: ${d.errors[0]?.message}`);
      return d.toJS() as KubeManifest | null;
    })
    .filter((o): o is KubeManifest => o !== null && typeof o === 'object');
}

export interface TemplateOptions extends HelmValuesOptions {
  release?: string;
  namespace?: string;
  /** Also render crds/ (helm template --include-crds). */
  includeCrds?: boolean;
}

/** `helm template`: the objects, or an Error carrying helm's stderr. */
export async function helmTemplate(chart: string, opts: TemplateOptions = {}): Promise<KubeManifest[]> {
  const { args, cleanup } = valuesArgs(opts);
  try {
    const r = await runHelm([
      'template',
      opts.release ?? 'strait',
      chart,
      '--namespace',
      opts.namespace ?? 'strait-system',
      '--kube-version',
      locateBinaries().version('kube-apiserver'),
      ...(opts.includeCrds ? ['--include-crds'] : []),
      ...args,
    ]);
    if (r.code !== 0) throw new Error(r.stderr.trim() || `helm template exited ${r.code}`);
    return parseManifests(r.stdout);
  } finally {
    cleanup();
  }
}

/** Finds one object by kind and name (throws naming what was there). */
export function findManifest(objects: readonly KubeManifest[], kind: string, name: string): KubeManifest {
  const hit = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!hit) throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return hit;
}
