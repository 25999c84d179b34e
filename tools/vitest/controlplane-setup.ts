import type { TestProject } from 'vitest/node';
import { describeSharedControlPlane, SHARED_CONTROL_PLANE_KEY, startControlPlane, type ControlPlane } from '@strait/testing';

/**
 * globalSetup of the integration tier: starts ONE control plane (one cluster with
 * kube-controller-manager, plus NATS) for every *.int.test.ts file, provides its description under
 * `strait.controlPlane` (read it with sharedControlPlane() / sharedKubeConfig() from @strait/testing)
 * and stops it when the run ends. STRAIT_CONTROLPLANE_VERBOSE=1 prints every start-up step.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const verbose = process.env['STRAIT_CONTROLPLANE_VERBOSE'] === '1';
  const started = performance.now();
  const cp: ControlPlane = await startControlPlane({
    clusters: [{ name: 'shared', controllerManager: true }],
    nats: true,
    onProgress: (msg) => {
      if (verbose) console.error(`[strait control plane] ${msg}`);
    },
  });
  const info = describeSharedControlPlane(cp);
  console.error(
    `[strait control plane] shared cluster ${info.server} and NATS ${info.nats.url} ready in ${((performance.now() - started) / 1000).toFixed(1)} s (${cp.dir})`,
  );
  project.provide(SHARED_CONTROL_PLANE_KEY, info);
  return async () => {
    await cp.stop();
  };
}
