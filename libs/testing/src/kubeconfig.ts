import { readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export interface KubeconfigSpec {
  /** Used as the cluster and context name. */
  clusterName: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** PEM of the CA that signed the apiserver's serving certificate. */
  caPem: string;
  userName: string;
  /** PEM client certificate and key (embedded, so the file stands alone). */
  clientCertPem: string;
  clientKeyPem: string;
  namespace?: string;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** A kubeconfig with one cluster, one client-certificate user and one current context, as YAML. */
export function renderKubeconfig(spec: KubeconfigSpec): string {
  if (!/^https:\/\/[^/\s]+$/.test(spec.server)) throw new Error(`kubeconfig server ${JSON.stringify(spec.server)} must be https://host:port`);
  const context = `${spec.userName}@${spec.clusterName}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: spec.clusterName, cluster: { server: spec.server, 'certificate-authority-data': b64(spec.caPem) } },
    ],
    users: [
      {
        name: spec.userName,
        user: { 'client-certificate-data': b64(spec.clientCertPem), 'client-key-data': b64(spec.clientKeyPem) },
      },
    ],
    contexts: [
      {
        name: context,
        context: { cluster: spec.clusterName, user: spec.userName, ...(spec.namespace ? { namespace: spec.namespace } : {}) },
      },
    ],
    'current-context': context,
    preferences: {},
  });
}

/** Writes a kubeconfig (mode 0600: it holds a private key) from PEM files. */
export async function writeKubeconfig(
  path: string,
  opts: {
    clusterName: string;
    server: string;
    caFile: string;
    userName: string;
    certFile: string;
    keyFile: string;
    namespace?: string;
  },
): Promise<string> {
  const [caPem, clientCertPem, clientKeyPem] = await Promise.all([
    readFile(opts.caFile, 'utf8'),
    readFile(opts.certFile, 'utf8'),
    readFile(opts.keyFile, 'utf8'),
  ]);
  const spec: KubeconfigSpec = {
    clusterName: opts.clusterName,
    server: opts.server,
    caPem,
    userName: opts.userName,
    clientCertPem,
    clientKeyPem,
  };
  if (opts.namespace) spec.namespace = opts.namespace;
  await writeFile(path, renderKubeconfig(spec), { mode: 0o600 });
  return path;
}
