import { access, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { assertSubjectName, issueClientCert, type CertificateAuthority } from './pki.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import type { ClusterUser } from './types.ts';

/** Loads a kubeconfig file into a fresh KubeConfig. */
export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export interface UserTarget {
  clusterName: string;
  server: string;
  /** The cluster CA certificate; its key must be beside it as ca.key. */
  caFile: string;
  /** Where `users/<name>.kubeconfig` is written. */
  dir: string;
}

/**
 * Issues a client certificate (CN = name, O = each group) from the cluster CA and writes a kubeconfig
 * for it. The identity has no permissions until RBAC grants them. Throws if the user already exists.
 */
export async function createClusterUser(target: UserTarget, name: string, groups: string[] = []): Promise<ClusterUser> {
  assertSubjectName('user name', name);
  for (const g of groups) assertSubjectName('group', g);
  const pkiDir = dirname(target.caFile);
  const ca: CertificateAuthority = {
    dir: pkiDir,
    commonName: 'ca',
    certFile: target.caFile,
    keyFile: join(pkiDir, 'ca.key'),
  };
  const usersDir = join(target.dir, 'users');
  await mkdir(usersDir, { recursive: true });
  const kubeconfigPath = join(usersDir, `${fileSafe(name)}.kubeconfig`);
  const certName = `user-${fileSafe(name)}`;
  const exists = await access(kubeconfigPath).then(
    () => true,
    () => false,
  );
  if (exists) throw new Error(`user ${JSON.stringify(name)} already exists in cluster ${target.clusterName}; use a unique name`);
  const cert = await issueClientCert(ca, { name: certName, commonName: name, groups });
  await writeKubeconfig(kubeconfigPath, {
    clusterName: target.clusterName,
    server: target.server,
    caFile: target.caFile,
    userName: name,
    certFile: cert.certFile,
    keyFile: cert.keyFile,
  });
  return { name, groups: [...groups], kubeconfigPath, kubeConfig: () => loadKubeConfig(kubeconfigPath) };
}

/** Maps a user name to a file name (":" and "@" are fine in Kubernetes names but awkward in paths). */
function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`);
}
