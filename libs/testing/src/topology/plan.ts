import {
  contains,
  formatIpv4,
  formatPrefix,
  hostAt,
  overlaps,
  parseIpv4,
  parseIpv4Prefix,
  subnet,
  subnetCount,
  usableHosts,
  type Ipv4Prefix,
} from './ipv4.ts';
import {
  CLUSTER_NAME_RE,
  MAX_IFNAME,
  MAX_NETNS_NAME,
  RUN_ID_RE,
  names,
  randomRunId,
  type NodeRef,
  type RoleLetter,
} from './names.ts';
import type {
  ClusterInfo,
  ClusterSpec,
  ExternalHostInfo,
  NodeInfo,
  PodInfo,
  TopologyPlan,
  TopologySpec,
} from './types.ts';

/**
 * The address plan: validates a {@link TopologySpec} completely and computes every name and address,
 * without touching the kernel. A bad spec throws {@link TopologySpecError} naming the field, so a
 * build that is going to fail does so before it creates anything.
 *
 * Addresses:
 *  - node network: node n (gateways first, then workers) gets the (n+1)-th address of `nodeCIDR`;
 *  - pod CIDR: node n gets the n-th slice of length `nodePodPrefix`; in its slice, the first address
 *    is the node's side of every pod veth and pods get the following ones;
 *  - WAN: gateway g (counted over all clusters in order) gets the (g+1)-th address of `wanCIDR`;
 *  - external hosts: host k gets the k-th address of `externalHosts.cidr`.
 * Clusters may share any CIDR with other clusters (their networks never touch); inside one cluster
 * and against the WAN, CIDRs must be disjoint.
 */

export const DEFAULT_GATEWAYS = 2;
export const DEFAULT_WORKERS = 1;
export const DEFAULT_PODS_PER_NODE = 1;
export const DEFAULT_NODE_POD_PREFIX = 24;
export const DEFAULT_WAN_CIDR = '172.31.0.0/24';

export function defaultNodeCIDR(clusterNumber: number): string {
  return `192.168.${clusterNumber}.0/24`;
}

export class TopologySpecError extends Error {
  override readonly name = 'TopologySpecError';
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`topology spec: ${field}: ${problem}`);
    this.field = field;
  }
}

function prefixOf(field: string, text: unknown): Ipv4Prefix {
  try {
    return parseIpv4Prefix(field, text);
  } catch (e) {
    throw new TopologySpecError(field, (e as Error).message.slice(field.length + 2));
  }
}

function count(field: string, v: unknown, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new TopologySpecError(field, `${JSON.stringify(v)} is not an integer in ${min}..${max}`);
  }
  return v;
}

interface Named {
  readonly field: string;
  readonly prefix: Ipv4Prefix;
}

function assertDisjoint(list: readonly Named[]): void {
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const a = list[i] as Named;
      const b = list[j] as Named;
      if (overlaps(a.prefix, b.prefix)) {
        throw new TopologySpecError(b.field, `${formatPrefix(b.prefix)} overlaps ${a.field} (${formatPrefix(a.prefix)})`);
      }
    }
  }
}

/** Validates the spec and computes the plan. Pure: same spec (with a runId) → same plan. */
export function planTopology(spec: TopologySpec): TopologyPlan {
  if (typeof spec !== 'object' || spec === null) throw new TopologySpecError('spec', 'must be an object');
  const runId = spec.runId ?? randomRunId();
  if (typeof runId !== 'string' || !RUN_ID_RE.test(runId)) {
    throw new TopologySpecError('runId', `${JSON.stringify(runId)} must be a lower-case letter followed by up to 7 lower-case letters or digits`);
  }
  if (!Array.isArray(spec.clusters) || spec.clusters.length === 0) {
    throw new TopologySpecError('clusters', 'must be a non-empty array');
  }
  const wanField = 'wanCIDR';
  const wan = prefixOf(wanField, spec.wanCIDR ?? DEFAULT_WAN_CIDR);

  const clusterNames = new Map<string, number>();
  const clusters: ClusterInfo[] = [];
  let wanNext = 1;
  const totalGateways = spec.clusters.reduce((n, c, i) => n + count(`clusters[${i}].gateways`, c?.gateways, DEFAULT_GATEWAYS, 0, 1000), 0);
  if (totalGateways > usableHosts(wan)) {
    throw new TopologySpecError(wanField, `${formatPrefix(wan)} has room for ${usableHosts(wan)} gateway addresses; the clusters have ${totalGateways} gateways`);
  }

  spec.clusters.forEach((c: ClusterSpec, ci) => {
    const f = `clusters[${ci}]`;
    if (typeof c !== 'object' || c === null) throw new TopologySpecError(f, 'must be an object');
    if (typeof c.name !== 'string' || !CLUSTER_NAME_RE.test(c.name) || c.name.length > 40) {
      throw new TopologySpecError(`${f}.name`, `${JSON.stringify(c.name)} must be lower-case letters, digits and "-" (at most 40 characters, not starting or ending with "-")`);
    }
    const prev = clusterNames.get(c.name);
    if (prev !== undefined) throw new TopologySpecError(`${f}.name`, `${c.name} duplicates clusters[${prev}].name`);
    clusterNames.set(c.name, ci);

    const number = ci + 1;
    const gateways = count(`${f}.gateways`, c.gateways, DEFAULT_GATEWAYS, 0, 1000);
    const workers = count(`${f}.workers`, c.workers, DEFAULT_WORKERS, 0, 1000);
    const podsPerNode = count(`${f}.podsPerNode`, c.podsPerNode, DEFAULT_PODS_PER_NODE, 0, 100_000);
    const nodeCount = gateways + workers;
    if (nodeCount === 0) throw new TopologySpecError(`${f}.gateways`, 'a cluster needs at least one node (gateways + workers)');

    const pod = prefixOf(`${f}.podCIDR`, c.podCIDR);
    const nodeNet = prefixOf(`${f}.nodeCIDR`, c.nodeCIDR ?? defaultNodeCIDR(number));
    const slicePrefix = count(`${f}.nodePodPrefix`, c.nodePodPrefix, DEFAULT_NODE_POD_PREFIX, 1, 30);
    if (slicePrefix < pod.prefix) {
      throw new TopologySpecError(`${f}.nodePodPrefix`, `/${slicePrefix} is larger than the pod CIDR ${formatPrefix(pod)}`);
    }
    const slices = subnetCount(pod, slicePrefix);
    if (slices < nodeCount) {
      throw new TopologySpecError(
        `${f}.podCIDR`,
        `${formatPrefix(pod)} has room for ${slices} node slice(s) of /${slicePrefix} but cluster ${c.name} has ${nodeCount} nodes (${gateways} gateways + ${workers} workers): use a larger pod CIDR or a longer nodePodPrefix`,
      );
    }
    // The slice's first address is the node's side of the pod veths; pods follow.
    const podRoom = usableHosts({ network: 0, prefix: slicePrefix }) - 1;
    if (podsPerNode > podRoom) {
      throw new TopologySpecError(`${f}.podsPerNode`, `${podsPerNode} pods do not fit in a /${slicePrefix} node slice (at most ${Math.max(podRoom, 0)})`);
    }
    if (nodeCount > usableHosts(nodeNet)) {
      throw new TopologySpecError(`${f}.nodeCIDR`, `${formatPrefix(nodeNet)} has room for ${usableHosts(nodeNet)} nodes; cluster ${c.name} has ${nodeCount}`);
    }

    let ext: Ipv4Prefix | undefined;
    let extCount = 0;
    if (c.externalHosts !== undefined) {
      if (typeof c.externalHosts !== 'object' || c.externalHosts === null) throw new TopologySpecError(`${f}.externalHosts`, 'must be an object');
      ext = prefixOf(`${f}.externalHosts.cidr`, c.externalHosts.cidr);
      extCount = count(`${f}.externalHosts.count`, c.externalHosts.count, 1, 1, 1000);
      if (extCount > usableHosts(ext)) {
        throw new TopologySpecError(`${f}.externalHosts.count`, `${extCount} hosts do not fit in ${formatPrefix(ext)} (at most ${usableHosts(ext)})`);
      }
    }

    const own: Named[] = [
      { field: `${f}.podCIDR`, prefix: pod },
      { field: `${f}.nodeCIDR`, prefix: nodeNet },
      ...(ext ? [{ field: `${f}.externalHosts.cidr`, prefix: ext }] : []),
    ];
    assertDisjoint(own);
    for (const o of own) {
      if (overlaps(o.prefix, wan)) throw new TopologySpecError(o.field, `${formatPrefix(o.prefix)} overlaps ${wanField} (${formatPrefix(wan)})`);
    }

    const run = runId;
    const nodes: NodeInfo[] = [];
    const roles: [RoleLetter, number][] = [
      ['g', gateways],
      ['w', workers],
    ];
    for (const [role, n] of roles) {
      for (let i = 1; i <= n; i++) {
        const ordinal = nodes.length;
        const ref: NodeRef = { cluster: number, role, index: i };
        const nodeName = names.node(c.name, role, i);
        const slice = subnet(pod, slicePrefix, ordinal);
        const gwIp = formatIpv4(hostAt(slice, 1));
        const pods: PodInfo[] = [];
        for (let k = 1; k <= podsPerNode; k++) {
          const podName = names.pod(nodeName, k);
          pods.push({
            name: podName,
            cluster: c.name,
            node: nodeName,
            index: k,
            netns: names.podNetns(run, podName),
            ip: formatIpv4(hostAt(slice, 1 + k)),
            ifname: names.podIf(run, ref, k),
            hostIfname: names.podHostIf(run, ref, k),
            gatewayIp: gwIp,
          });
        }
        nodes.push({
          name: nodeName,
          cluster: c.name,
          role: role === 'g' ? 'gateway' : 'worker',
          index: i,
          netns: names.nodeNetns(run, nodeName),
          ip: formatIpv4(hostAt(nodeNet, ordinal + 1)),
          prefixLength: nodeNet.prefix,
          ifname: names.nodeIf(run, ref),
          switchPort: names.nodePort(run, ref),
          podCIDR: formatPrefix(slice),
          podGatewayIp: gwIp,
          wan:
            role === 'g'
              ? { ip: formatIpv4(hostAt(wan, wanNext++)), prefixLength: wan.prefix, ifname: names.wanIf(run, ref), switchPort: names.wanPort(run, ref) }
              : undefined,
          pods,
        });
      }
    }
    const externalHosts: ExternalHostInfo[] = [];
    for (let k = 1; k <= extCount; k++) {
      const hostName = names.external(c.name, k);
      externalHosts.push({
        name: hostName,
        cluster: c.name,
        index: k,
        netns: names.externalNetns(run, hostName),
        ip: formatIpv4(hostAt(ext as Ipv4Prefix, k)),
        prefixLength: (ext as Ipv4Prefix).prefix,
        ifname: names.externalIf(run, number, k),
        switchPort: names.externalPort(run, number, k),
      });
    }
    clusters.push({
      name: c.name,
      number,
      podCIDR: formatPrefix(pod),
      nodeCIDR: formatPrefix(nodeNet),
      nodePodPrefix: slicePrefix,
      switchNetns: names.switchNetns(run, c.name),
      bridge: names.bridge(run),
      nodes,
      gateways: nodes.filter((n) => n.role === 'gateway'),
      workers: nodes.filter((n) => n.role === 'worker'),
      pods: nodes.flatMap((n) => n.pods),
      externalCIDR: ext ? formatPrefix(ext) : undefined,
      externalHosts,
    });
  });

  const plan: TopologyPlan = {
    runId,
    wan: { cidr: formatPrefix(wan), netns: names.wanNetns(runId), bridge: names.bridge(runId) },
    clusters,
    namespaces: [
      names.wanNetns(runId),
      ...clusters.flatMap((c) => [
        c.switchNetns,
        ...c.nodes.map((n) => n.netns),
        ...c.pods.map((p) => p.netns),
        ...c.externalHosts.map((h) => h.netns),
      ]),
    ],
    linkNames: [
      names.bridge(runId),
      ...clusters.flatMap((c) => [
        ...c.nodes.flatMap((n) => [n.ifname, n.switchPort, ...(n.wan ? [n.wan.ifname, n.wan.switchPort] : []), ...n.pods.flatMap((p) => [p.ifname, p.hostIfname])]),
        ...c.externalHosts.flatMap((h) => [h.ifname, h.switchPort]),
      ]),
    ],
  };
  checkNames(plan);
  return plan;
}

function checkNames(plan: TopologyPlan): void {
  const seenNs = new Set<string>();
  for (const ns of plan.namespaces) {
    if (ns.length > MAX_NETNS_NAME) throw new TopologySpecError('clusters', `namespace name ${ns} is longer than ${MAX_NETNS_NAME} characters: use shorter cluster names`);
    if (seenNs.has(ns)) throw new TopologySpecError('clusters', `two objects would share the namespace name ${ns}: rename a cluster`);
    seenNs.add(ns);
  }
  const seenLinks = new Set<string>();
  for (const l of plan.linkNames) {
    if (l.length > MAX_IFNAME) {
      throw new TopologySpecError(
        'runId',
        `interface name ${l} would be ${l.length} characters (the kernel allows ${MAX_IFNAME}): use a shorter runId or fewer clusters/nodes/pods`,
      );
    }
    if (seenLinks.has(l)) throw new TopologySpecError('clusters', `interface name ${l} would be used twice`);
    seenLinks.add(l);
  }
}

/** All nodes of the plan, cluster by cluster. */
export function allNodes(plan: TopologyPlan): NodeInfo[] {
  return plan.clusters.flatMap((c) => [...c.nodes]);
}

export function allPods(plan: TopologyPlan): PodInfo[] {
  return plan.clusters.flatMap((c) => [...c.pods]);
}

export function allExternalHosts(plan: TopologyPlan): ExternalHostInfo[] {
  return plan.clusters.flatMap((c) => [...c.externalHosts]);
}

/**
 * The namespaces that hold `ip` (pods, nodes on their node-network, WAN and pod-gateway addresses,
 * external hosts). With overlapping clusters one address may be in several namespaces.
 */
export function namespacesOfIp(plan: TopologyPlan, ip: string): string[] {
  const out = new Set<string>();
  for (const c of plan.clusters) {
    for (const n of c.nodes) {
      if (n.ip === ip || n.wan?.ip === ip || n.podGatewayIp === ip) out.add(n.netns);
      for (const p of n.pods) if (p.ip === ip) out.add(p.netns);
    }
    for (const h of c.externalHosts) if (h.ip === ip) out.add(h.netns);
  }
  return [...out];
}

/** The cluster a namespace of the plan belongs to (undefined for the WAN switch and unknown names). */
export function clusterOfNetns(plan: TopologyPlan, netns: string): string | undefined {
  for (const c of plan.clusters) {
    if (c.switchNetns === netns) return c.name;
    if (c.nodes.some((n) => n.netns === netns || n.pods.some((p) => p.netns === netns))) return c.name;
    if (c.externalHosts.some((h) => h.netns === netns)) return c.name;
  }
  return undefined;
}

/** Whether `ip` lies in `cidr` (IPv4 text). */
export function ipInCidr(ip: string, cidr: string): boolean {
  const n = parseIpv4(ip);
  return n !== undefined && contains(parseIpv4Prefix('cidr', cidr), n);
}
