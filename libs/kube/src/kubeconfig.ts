/** Loading a KubeConfig: an explicit file, in-cluster service account, $KUBECONFIG or ~/.kube/config. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface KubeConfigFromOptions {
  /** Path of a kubeconfig file. When omitted: in-cluster if running in a pod, else $KUBECONFIG, else ~/.kube/config. */
  kubeconfig?: string | undefined;
  /** Context to use instead of the file's current-context. */
  context?: string | undefined;
}

export function kubeConfigFrom(opts: KubeConfigFromOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  let source: string;
  if (opts.kubeconfig !== undefined) {
    if (opts.kubeconfig === '') throw new Error('kubeconfig: the path is empty');
    if (!existsSync(opts.kubeconfig)) throw new Error(`kubeconfig: file not found: ${opts.kubeconfig}`);
    try {
      kc.loadFromFile(opts.kubeconfig);
    } catch (err) {
      throw new Error(`kubeconfig: cannot load ${opts.kubeconfig}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    source = opts.kubeconfig;
  } else if (process.env['KUBERNETES_SERVICE_HOST'] && existsSync(SA_TOKEN)) {
    kc.loadFromCluster();
    source = 'in-cluster service account';
  } else if (process.env['KUBECONFIG'] || existsSync(join(homedir(), '.kube', 'config'))) {
    try {
      kc.loadFromDefault();
    } catch (err) {
      throw new Error(`kubeconfig: cannot load $KUBECONFIG or ~/.kube/config: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    source = process.env['KUBECONFIG'] ? `$KUBECONFIG (${process.env['KUBECONFIG']})` : '~/.kube/config';
  } else {
    throw new Error('kubeconfig: none found; pass a kubeconfig path, set KUBECONFIG, or run inside a cluster');
  }
  if (opts.context !== undefined) {
    if (!kc.getContextObject(opts.context)) throw new Error(`kubeconfig: context ${JSON.stringify(opts.context)} not found in ${source}`);
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) throw new Error(`kubeconfig: ${source} has no current cluster (check current-context)`);
  return kc;
}
