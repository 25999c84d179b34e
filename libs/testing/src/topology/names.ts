import { randomInt } from 'node:crypto';

/**
 * Names of everything a topology creates. Every network namespace and every link starts with
 * `<runId>-`, so one run's objects are found (and removed) by prefix and two runs never collide.
 *
 *   netns   <run>-wan                WAN switch (one for all clusters)
 *           <run>-<cluster>-sw       the cluster's node-network switch
 *           <run>-<cluster>-g1       gateway node 1 (workers: -w1)
 *           <run>-<cluster>-g1-p1    pod 1 of that node
 *           <run>-<cluster>-x1       external host 1 of the cluster
 *   links   <run>-br                 the bridge inside a switch namespace
 *           <run>-<c><r><n>          a node's node-network interface (c cluster number, r g|w, n index),
 *           <run>-<c><r><n>s         ... and its port on the cluster switch
 *           <run>-<c>g<n>w           a gateway's WAN interface, <run>-<c>g<n>ws its WAN switch port
 *           <run>-<c><r><n>p<k>      pod k's interface (inside the pod), <run>-<c><r><n>p<k>h the node's end
 *           <run>-<c>x<k>            external host k's interface, <run>-<c>x<k>s its switch port
 *
 * Link names use the cluster's NUMBER (1-based position in the spec), not its name, because the
 * kernel allows 15 characters: with a 5-character run id, 99 clusters × 99 nodes × 99 pods fit.
 */

/** Longest interface name the kernel accepts (IFNAMSIZ - 1). */
export const MAX_IFNAME = 15;
/** Longest namespace name Strait's netns port accepts. */
export const MAX_NETNS_NAME = 64;

export const RUN_ID_RE = /^[a-z][a-z0-9]{0,7}$/;
export const CLUSTER_NAME_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

const RUN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh run id: `t` and four random base-36 characters (5 characters in all). */
export function randomRunId(): string {
  let s = 't';
  for (let i = 0; i < 4; i++) s += RUN_ALPHABET[randomInt(RUN_ALPHABET.length)];
  return s;
}

/** The prefix every namespace and link of a run starts with. */
export function runPrefix(runId: string): string {
  return `${runId}-`;
}

export type RoleLetter = 'g' | 'w';

export interface NodeRef {
  /** 1-based position of the cluster in the spec. */
  readonly cluster: number;
  readonly role: RoleLetter;
  /** 1-based index within its role. */
  readonly index: number;
}

/** `1g2`: the compact id of a node in link names. */
export function nodeLinkId(n: NodeRef): string {
  return `${n.cluster}${n.role}${n.index}`;
}

export const names = {
  wanNetns: (run: string): string => `${run}-wan`,
  switchNetns: (run: string, cluster: string): string => `${run}-${cluster}-sw`,
  /** `a-g1`, the node's name (as a Kubernetes Node would be called). */
  node: (cluster: string, role: RoleLetter, index: number): string => `${cluster}-${role}${index}`,
  nodeNetns: (run: string, nodeName: string): string => `${run}-${nodeName}`,
  pod: (nodeName: string, index: number): string => `${nodeName}-p${index}`,
  podNetns: (run: string, podName: string): string => `${run}-${podName}`,
  external: (cluster: string, index: number): string => `${cluster}-x${index}`,
  externalNetns: (run: string, hostName: string): string => `${run}-${hostName}`,

  bridge: (run: string): string => `${run}-br`,
  nodeIf: (run: string, n: NodeRef): string => `${run}-${nodeLinkId(n)}`,
  nodePort: (run: string, n: NodeRef): string => `${run}-${nodeLinkId(n)}s`,
  wanIf: (run: string, n: NodeRef): string => `${run}-${nodeLinkId(n)}w`,
  wanPort: (run: string, n: NodeRef): string => `${run}-${nodeLinkId(n)}ws`,
  podIf: (run: string, n: NodeRef, pod: number): string => `${run}-${nodeLinkId(n)}p${pod}`,
  podHostIf: (run: string, n: NodeRef, pod: number): string => `${run}-${nodeLinkId(n)}p${pod}h`,
  externalIf: (run: string, cluster: number, index: number): string => `${run}-${cluster}x${index}`,
  externalPort: (run: string, cluster: number, index: number): string => `${run}-${cluster}x${index}s`,
} as const;

/** Whether a namespace or link name belongs to the run. */
export function belongsToRun(runId: string, name: string): boolean {
  return name.startsWith(runPrefix(runId));
}
