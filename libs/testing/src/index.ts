// @strait/testing: real Kubernetes control planes and NATS for integration tests and the lab.
export type {
  ClusterHandle,
  ClusterOptions,
  ClusterUser,
  ControlPlane,
  ControlPlaneOptions,
  NatsHandle,
  SharedControlPlane,
} from './types.ts';
export { startControlPlane } from './control-plane.ts';
export { sharedControlPlane, sharedKubeConfig, addSharedUser, describeSharedControlPlane, SHARED_CONTROL_PLANE_KEY } from './shared.ts';
export { loadKubeConfig } from './users.ts';
export { locateBinaries, BUILD_HINT, type BinaryName, type BinaryLocator } from './binaries.ts';
export { freePort, freePorts } from './ports.ts';
export { ManagedProcess, ProcessFailedError, liveProcesses, registerExitCleanup, type ProcessSpec, type ExitStatus } from './process.ts';
export { renderKubeconfig, writeKubeconfig, type KubeconfigSpec } from './kubeconfig.ts';
export { DEFAULT_SERVICE_CIDR } from './cluster.ts';
export * from './topology/index.ts';
export * from './gateway-lab/index.ts';
