export { ServiceProcess, runToExit, startServiceProcess } from './service-process.ts';
export type { ExitStatus, HttpAnswer, SpawnOptions } from './service-process.ts';
export { BAD_FLAG_CASES, observeLifecycle } from './lifecycle.ts';
export type { ControlPlaneAccess, LifecycleObservation } from './lifecycle.ts';
