// Simulated multi-cluster networks in network namespaces (docs/testing/topology.md).
export type {
  ClusterInfo,
  ClusterSpec,
  ExternalHostInfo,
  ExternalHostsSpec,
  NodeInfo,
  NodeRole,
  PodInfo,
  TopologyPlan,
  TopologySpec,
  WanAttachment,
  WanInfo,
} from './types.ts';
export { buildTopology, TopologyBuildError, type BuildOptions } from './build.ts';
export { Topology } from './topology.ts';
export {
  planTopology,
  TopologySpecError,
  allNodes,
  allPods,
  allExternalHosts,
  namespacesOfIp,
  clusterOfNetns,
  ipInCidr,
  defaultNodeCIDR,
  DEFAULT_GATEWAYS,
  DEFAULT_WORKERS,
  DEFAULT_PODS_PER_NODE,
  DEFAULT_NODE_POD_PREFIX,
  DEFAULT_WAN_CIDR,
} from './plan.ts';
export { desiredState, TOPOLOGY_OWNER, TOPOLOGY_ROUTE_PROTO, type DesiredState, type NetnsDesired } from './desired.ts';
export { destroyRun, destroyRunSync, type CleanupReport } from './cleanup.ts';
export { names as topologyNames, randomRunId, runPrefix, belongsToRun, MAX_IFNAME } from './names.ts';
export { pingFrom, parsePing, type PingOptions, type PingResult } from './ping.ts';
export { DEFAULT_ECHO_PORT, type ProbeHandle, type ProbeOptions, type ProbeReport } from './probe.ts';
export type { ProbeResult, LossWindow } from './tools/probe-stats.ts';
export { probeStats } from './tools/probe-stats.ts';
export { topologySummary } from './summary.ts';
export type { TcpTransferOptions, TcpTransferResult, TcpDirection } from './tcp-transfer.ts';
