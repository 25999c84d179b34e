export { NsProcess, until } from './ns-process.ts';
export { LAB_K8S_NS, OPERATOR_PROBE_PORT, ROUTE_AGENT_PROBE_PORT, TCP_UNIX_RELAY_SCRIPT, TwoClusterLab, healthIp, type LabClusterBase, type TwoClusterLabOptions } from './two-cluster-lab.ts';
