import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/**
 * Loads a kubeconfig: the given file, else the client's default search (in-cluster service account,
 * $KUBECONFIG, ~/.kube/config). The client library is loaded on first use, so that a process refusing
 * its flags or printing --help does not pay for it.
 */
export async function loadKubeConfig(path: string | undefined): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    if (path) kc.loadFromFile(path);
    else kc.loadFromDefault();
  } catch (err) {
    throw new Error(`cannot load kubeconfig ${path ?? '(default)'}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { cause: err });
  }
  if (!kc.getCurrentCluster()) throw new Error(`kubeconfig ${path ?? '(default)'} has no current cluster`);
  return kc;
}

/** Which API server endpoint to ask: `/readyz` (default) or `/version` (older or restricted servers). */
export type KubeProbePath = '/readyz' | '/version';

/**
 * GETs the API server's /readyz (or /version) with the kubeconfig's credentials; resolves on 200.
 * Rejects with a one-line reason otherwise. Used as the `kube-api` readiness check.
 */
export async function probeKubeApi(kc: KubeConfig, opts: { path?: KubeProbePath; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const path = opts.path ?? '/readyz';
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  const reqOpts: https.RequestOptions = { method: 'GET', headers: { Accept: 'text/plain, application/json' }, timeout: opts.timeoutMs ?? 5000 };
  if (opts.signal) reqOpts.signal = opts.signal;
  await kc.applyToHTTPSOptions(reqOpts);
  const mod = url.protocol === 'https:' ? https : http;
  await new Promise<void>((resolve, reject) => {
    const req = mod.request(url, reqOpts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 2048) body += c;
      });
      res.on('end', () => {
        if (res.statusCode === 200) resolve();
        else reject(new Error(`${cluster.server}${path}: HTTP ${res.statusCode}${body ? ` ${body.trim().split('\n').slice(-1)[0]}` : ''}`));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${cluster.server}${path}: timed out`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new Error(`${cluster.server}${path}: ${err.code ?? err.message}`)));
    req.end();
  });
}

/** A readiness check (for ProbeServer.addCheck) that the Kubernetes API server is reachable and ready. */
export function kubeApiReadinessCheck(kc: KubeConfig, opts: { path?: KubeProbePath } = {}): (signal: AbortSignal) => Promise<void> {
  return (signal) => probeKubeApi(kc, { ...opts, signal });
}

/**
 * Loads the kubeconfig for a service and registers the readiness check `name` (default `kube-api`)
 * against that API server. Returns the KubeConfig for the service's clients.
 */
export async function useKubeApi(
  ctx: { addReadinessCheck(name: string, check: (signal: AbortSignal) => Promise<void>): void },
  kubeconfigPath: string | undefined,
  name = 'kube-api',
): Promise<KubeConfig> {
  const kc = await loadKubeConfig(kubeconfigPath);
  ctx.addReadinessCheck(name, kubeApiReadinessCheck(kc));
  return kc;
}
