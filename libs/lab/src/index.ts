// @strait/lab: Strait's local multi-cluster lab (control planes, services as real processes), driven
// by `straitctl lab` and by the end-to-end tests.
export { labDir, labFiles, REPO_ROOT, type LabFiles } from './paths.ts';
export { readState, pidAlive, allPids, type LabState, type ClusterState, type ServiceState, type LabPhase } from './state.ts';
export { LAB_SERVICES, serviceArgs, type LabService } from './services.ts';
export { LabDaemon, memberNames, BROKER, BROKER_NAMESPACE } from './daemon.ts';
export { labUp, labDown, labStatus, labLogs, collectStatus, LabError, type LabIO } from './client.ts';
export { renderStatus } from './table.ts';
export { installStrait } from './install.ts';
