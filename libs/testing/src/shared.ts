import type { KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import type { ClusterUser, ControlPlane, SharedControlPlane } from './types.ts';
import { createClusterUser, loadKubeConfig } from './users.ts';

/** The key under which the integration tier's globalSetup provides the shared control plane. */
export const SHARED_CONTROL_PLANE_KEY = 'strait.controlPlane';

declare module 'vitest' {
  export interface ProvidedContext {
    'strait.controlPlane': SharedControlPlane;
  }
}

/** The serialisable description of a running control plane's first cluster and its NATS. */
export function describeSharedControlPlane(cp: ControlPlane): SharedControlPlane {
  const cluster = cp.clusters[0];
  if (!cluster) throw new Error('the shared control plane needs at least one cluster');
  if (!cp.nats) throw new Error('the shared control plane needs NATS');
  return {
    clusterName: cluster.name,
    server: cluster.server,
    kubeconfigPath: cluster.kubeconfigPath,
    caFile: cluster.caFile,
    dir: cluster.dir,
    nats: { url: cp.nats.url, user: cp.nats.user, password: cp.nats.password, token: cp.nats.token },
  };
}

/**
 * The control plane the integration tier's globalSetup (tools/vitest/controlplane-setup.ts) started
 * once for all test files: one cluster with kube-controller-manager, and NATS. Use unique names
 * (random suffix) and clean up; tests that stop or kill processes start their own control plane.
 */
export function sharedControlPlane(): SharedControlPlane {
  let info: SharedControlPlane | undefined;
  try {
    info = inject(SHARED_CONTROL_PLANE_KEY);
  } catch (err) {
    throw new Error(
      'sharedControlPlane() works only inside a vitest test of the integration tier (*.int.test.ts); ' +
        'outside vitest, start your own with startControlPlane()',
      { cause: err },
    );
  }
  if (!info) {
    throw new Error(
      'no shared control plane was provided: run the test in the integration tier (npx vitest run --project integration), ' +
        'whose globalSetup tools/vitest/controlplane-setup.ts starts it',
    );
  }
  return info;
}

/** Admin KubeConfig of the shared cluster. */
export function sharedKubeConfig(): KubeConfig {
  return loadKubeConfig(sharedControlPlane().kubeconfigPath);
}

/** Adds a client-certificate identity (no permissions until bound) to the shared cluster. */
export function addSharedUser(name: string, groups: string[] = []): Promise<ClusterUser> {
  const info = sharedControlPlane();
  return createClusterUser(
    { clusterName: info.clusterName ?? 'shared', server: info.server, caFile: info.caFile, dir: info.dir },
    name,
    groups,
  );
}

