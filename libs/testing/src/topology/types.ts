/**
 * The simulated multi-cluster network: what a test asks for ({@link TopologySpec}) and what it gets
 * back (the plan: clusters, nodes, pods and external hosts with their namespaces, addresses and
 * interface names). IPv4 only.
 */

export type NodeRole = 'gateway' | 'worker';

export interface ExternalHostsSpec {
  /** Subnet the external hosts live in, reachable from every node of the cluster (e.g. `203.0.113.0/24`). */
  readonly cidr: string;
  /** How many hosts (default 1); host k gets the k-th address of `cidr`. */
  readonly count?: number;
}

export interface ClusterSpec {
  /** Lower-case letters, digits and `-` (used in namespace names). Unique in the spec. */
  readonly name: string;
  /** The cluster's pod CIDR, e.g. `10.0.0.0/16`. Clusters may share one: every node network is isolated. */
  readonly podCIDR: string;
  /** Node network (default `192.168.<cluster number>.0/24`). */
  readonly nodeCIDR?: string;
  /** Gateway nodes (default 2). They also sit on the WAN. */
  readonly gateways?: number;
  /** Worker nodes (default 1). */
  readonly workers?: number;
  /** Pods per node (default 1). */
  readonly podsPerNode?: number;
  /** Prefix length of each node's slice of the pod CIDR (default 24). */
  readonly nodePodPrefix?: number;
  /** Hosts outside the cluster, on the cluster's node network in a subnet of their own. */
  readonly externalHosts?: ExternalHostsSpec;
}

export interface TopologySpec {
  /** Prefix of every namespace and link name: a lower-case letter then up to 7 letters/digits (default: random, 5 characters). */
  readonly runId?: string;
  readonly clusters: readonly ClusterSpec[];
  /** The WAN between gateway nodes (default `172.31.0.0/24`). */
  readonly wanCIDR?: string;
}

export interface PodInfo {
  /** `a-g1-p1` */
  readonly name: string;
  readonly cluster: string;
  /** Name of the node the pod runs on. */
  readonly node: string;
  /** 1-based within its node. */
  readonly index: number;
  readonly netns: string;
  readonly ip: string;
  /** The pod's interface (inside the pod's namespace). */
  readonly ifname: string;
  /** The node's end of the pod's veth. */
  readonly hostIfname: string;
  /** Next hop of the pod's default route: the node's side of the veth. */
  readonly gatewayIp: string;
}

export interface WanAttachment {
  readonly ip: string;
  readonly prefixLength: number;
  /** The gateway's WAN interface (inside the node's namespace). */
  readonly ifname: string;
  /** Its port on the WAN switch (inside the WAN switch's namespace). */
  readonly switchPort: string;
}

export interface NodeInfo {
  /** `a-g1`, `a-w1` */
  readonly name: string;
  readonly cluster: string;
  readonly role: NodeRole;
  /** 1-based within its role. */
  readonly index: number;
  readonly netns: string;
  /** Node-network address. */
  readonly ip: string;
  readonly prefixLength: number;
  /** Node-network interface (inside the node's namespace). */
  readonly ifname: string;
  /** Its port on the cluster switch (inside the switch's namespace). */
  readonly switchPort: string;
  /** This node's slice of the cluster pod CIDR. */
  readonly podCIDR: string;
  /** The node's address on every pod veth (pods' default gateway), the slice's first address. */
  readonly podGatewayIp: string;
  /** Gateway nodes only. */
  readonly wan: WanAttachment | undefined;
  readonly pods: readonly PodInfo[];
}

export interface ExternalHostInfo {
  /** `a-x1` */
  readonly name: string;
  readonly cluster: string;
  readonly index: number;
  readonly netns: string;
  readonly ip: string;
  readonly prefixLength: number;
  readonly ifname: string;
  readonly switchPort: string;
}

export interface ClusterInfo {
  readonly name: string;
  /** 1-based position in the spec (used in link names). */
  readonly number: number;
  readonly podCIDR: string;
  readonly nodeCIDR: string;
  readonly nodePodPrefix: number;
  /** Namespace holding the bridge of the node network. */
  readonly switchNetns: string;
  readonly bridge: string;
  readonly nodes: readonly NodeInfo[];
  readonly gateways: readonly NodeInfo[];
  readonly workers: readonly NodeInfo[];
  readonly pods: readonly PodInfo[];
  readonly externalCIDR: string | undefined;
  readonly externalHosts: readonly ExternalHostInfo[];
}

export interface WanInfo {
  readonly cidr: string;
  readonly netns: string;
  readonly bridge: string;
}

/** The complete address and name plan of a topology: pure data, computed before anything is created. */
export interface TopologyPlan {
  readonly runId: string;
  readonly wan: WanInfo;
  readonly clusters: readonly ClusterInfo[];
  /** Every namespace, in creation order. */
  readonly namespaces: readonly string[];
  /** Every link name (both ends of every veth, bridges once). */
  readonly linkNames: readonly string[];
}
