import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { LabOptions } from './plan.ts';

export type LabPhase = 'starting' | 'ready' | 'failed' | 'stopping';

export interface ServiceState {
  name: string;
  cluster: string;
  pid: number | undefined;
  /** http://127.0.0.1:<port> serving /livez /readyz /metrics */
  probe: string;
  log: string;
  /** The node whose network namespace it runs in (unset: the host). */
  node?: string;
  /** Times the lab restarted it after it exited (as a kubelet restarts a container). */
  restarts?: number;
  /** Stopped through the control socket and kept stopped until released (no restart, no liveness probe). */
  held?: boolean;
}

export interface LabNodeState {
  name: string;
  cluster: string;
  role: 'gateway' | 'worker';
  netns: string;
  /** Node-network address (the Node's InternalIP). */
  ip: string;
  /** Gateway nodes: the WAN attachment (address and interface inside the node namespace). */
  wan?: { ip: string; ifname: string };
  /** Gateway nodes: the gateway network namespace the tunnel-operator adopts. */
  gatewayNetns?: string;
  /** Gateway nodes: the tunnel-operator replica's pod name (its identity in the gateway Lease). */
  gatewayPod?: string;
}

export interface LabPodState {
  name: string;
  cluster: string;
  node: string;
  netns: string;
  ip: string;
}

export interface ClusterState {
  name: string;
  role: 'broker' | 'member';
  server: string;
  kubeconfig: string;
  /** Member clusters: the pod CIDR. */
  podCidr?: string;
  pids: number[];
  services: ServiceState[];
}

export interface LabState {
  version: 1;
  daemonPid: number;
  startedAt: string;
  readyAt?: string;
  phase: LabPhase;
  error?: string;
  dir: string;
  controlPlaneDir?: string;
  options: LabOptions;
  nodes: LabNodeState[];
  pods: LabPodState[];
  nats?: { url: string; user: string; passwordFile: string };
  /** Prefix of every network namespace the lab made (removed by `lab down`). */
  netnsPrefix?: string;
  /** Every control-plane process (etcd, kube-apiserver, kube-controller-manager, nats-server). */
  controlPlanePids: number[];
  clusters: ClusterState[];
}

export function readState(file: string): LabState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as LabState;
    return s.version === 1 ? { ...s, nodes: s.nodes ?? [], pods: s.pods ?? [] } : undefined;
  } catch {
    return undefined;
  }
}

/** Atomic replace, so a reader never sees half a file. */
export function writeState(file: string, state: LabState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

export function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every pid the lab started (services and control-plane processes). */
export function allPids(state: LabState): number[] {
  const pids = [...state.controlPlanePids, ...state.clusters.flatMap((c) => [...c.pids, ...c.services.map((s) => s.pid ?? 0)])];
  return [...new Set(pids.filter((p) => p > 0))];
}
