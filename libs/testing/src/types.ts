import type { KubeConfig } from '@kubernetes/client-node';

/** A client-certificate identity in one cluster (CN = name, O = each group). */
export interface ClusterUser {
  name: string;
  groups: string[];
  kubeconfigPath: string;
  kubeConfig(): KubeConfig;
}

export interface ClusterHandle {
  readonly name: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Admin user (group system:masters). */
  readonly kubeconfigPath: string;
  /** This cluster's files (certificates, kubeconfigs, logs, etcd data). */
  readonly dir: string;
  /** Admin KubeConfig. */
  kubeConfig(): KubeConfig;
  /** Adds a client-certificate identity for RBAC tests; it has no permissions until bound. */
  addUser(name: string, groups?: string[]): Promise<ClusterUser>;
  /** Stops kube-apiserver only (etcd keeps the data). */
  stopApiServer(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port with the same data; resolves when /readyz is ok. */
  startApiServer(): Promise<void>;
  readonly controllerManager: boolean;

  // Extensions beyond the agreed contract.
  /** The cluster CA certificate (signs the serving and client certificates). */
  readonly caFile: string;
  readonly serviceCidr: string;
  /** etcd client URL (http://127.0.0.1:<port>). */
  readonly etcdUrl: string;
  /** Stops / restarts kube-controller-manager (throws if the cluster has none). */
  stopControllerManager(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  startControllerManager(): Promise<void>;
  /** Pids of this cluster's running processes. */
  pids(): number[];
}

export interface NatsHandle {
  /** nats://127.0.0.1:<port> */
  readonly url: string;
  /** Full-rights user. */
  readonly user: string;
  readonly password: string;
  /** A second identity, authenticated by token. */
  readonly token: string;
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

export interface ControlPlane {
  clusters: ClusterHandle[];
  nats?: NatsHandle;
  /** Root directory of every file (under os.tmpdir(), prefix `strait-cp-`). */
  dir: string;
  /** Kills every process, waits for their exit and removes `dir` (kept if STRAIT_KEEP_TEST_DIRS=1). */
  stop(): Promise<void>;

  // Extensions beyond the agreed contract.
  /** Pids of every running process of this control plane. */
  pids(): number[];
  /** The cluster with this name (throws if unknown). */
  cluster(name: string): ClusterHandle;
}

export interface ClusterOptions {
  /** DNS-label name; default `cluster-<n>`. */
  name?: string;
  /** Run kube-controller-manager (default false). */
  controllerManager?: boolean;
  /** Service CIDR (IPv4); default 10.96.0.0/16. */
  serviceCidr?: string;
  /** Extra kube-apiserver flags (appended). */
  apiServerArgs?: string[];
  /** Extra kube-controller-manager flags (appended). */
  controllerManagerArgs?: string[];
}

export interface ControlPlaneOptions {
  /** Number of clusters or one entry per cluster; default 1. */
  clusters?: number | ClusterOptions[];
  /** Start nats-server; default true. */
  nats?: boolean;
  /** Enable JetStream on nats-server; default false. */
  jetStream?: boolean;
  /** Progress messages (the lab prints them). */
  onProgress?: (msg: string) => void;
}

/** What the integration tier's globalSetup provides to every test file. */
export interface SharedControlPlane {
  /** Extension: the cluster's name. */
  clusterName?: string;
  server: string;
  kubeconfigPath: string;
  caFile: string;
  /** The shared cluster's directory (certificates, kubeconfigs, logs). */
  dir: string;
  nats: { url: string; user: string; password: string; token: string };
}
