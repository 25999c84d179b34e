// @strait/lab: Strait's local multi-cluster lab (control planes, services as real processes), driven
// by `straitctl lab` and by the end-to-end tests.
export { labDir, labFiles, REPO_ROOT, type LabFiles } from './paths.ts';
export { readState, pidAlive, allPids, type LabState, type ClusterState, type ServiceState, type LabPhase, type LabNodeState, type LabPodState } from './state.ts';
export { LAB_SERVICES, serviceArgs, type LabService } from './services.ts';
export { LabDaemon, memberNames, BROKER, BROKER_NAMESPACE } from './daemon.ts';
export { labUp, labDown, labStatus, labLogs, labCheck, labFailover, collectStatus, missingCommands, LAB_COMMANDS, LabError, type LabIO, type FailoverResult } from './client.ts';
export { DEFAULT_LAB_OPTIONS, LAB_DRIVERS, MIXED_ROTATION, defaultClusters, labBackendsOf, labOptionProblems, labTopologySpec, type LabOptions, type LabDriver } from './plan.ts';
export { planProbes, parsePing, type ProbeResult } from './check.ts';
export { viewCluster, viewMembers, type ClusterView } from './cluster-view.ts';
export { renderStatus } from './table.ts';
export { installStrait } from './install.ts';
export { controlSocket, startControlServer, controlRequest, ControlError, type LabControlHandler, type RestartResult, type HoldResult, type ReleaseResult, type ComponentResult, type ServiceTarget } from './control.ts';
export { labControl, type LabControl } from './control-client.ts';
