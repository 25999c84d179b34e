import { join } from 'node:path';
import { ManagedProcess } from './process.ts';
import { httpProbe } from './probe.ts';

/**
 * The controllers a Strait test cluster runs: Service endpoints and EndpointSlices, namespace
 * deletion, service accounts and their tokens, garbage collection, the kube-root-ca.crt ConfigMap,
 * aggregated ClusterRoles (view/edit/admin) and ValidatingAdmissionPolicy type-checking status. Workload, node and volume controllers are
 * left out (there are no kubelets).
 */
export const DEFAULT_CONTROLLERS = [
  'endpoints-controller',
  'endpointslice-controller',
  'endpointslice-mirroring-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'garbage-collector-controller',
  'root-ca-certificate-publisher-controller',
  'clusterrole-aggregation-controller',
  'validatingadmissionpolicy-status-controller',
] as const;

export interface ControllerManagerConfig {
  port: number;
  /** kubeconfig with the system:kube-controller-manager identity. */
  kubeconfigPath: string;
  /** Where it writes its self-signed serving certificate. */
  certDir: string;
  rootCaFile: string;
  serviceAccountPrivateKeyFile: string;
  serviceCidr: string;
  controllers?: readonly string[];
  extraArgs?: readonly string[];
}

export function controllerManagerArgs(cfg: ControllerManagerConfig): string[] {
  return [
    '--bind-address=127.0.0.1',
    `--secure-port=${cfg.port}`,
    `--cert-dir=${cfg.certDir}`,
    `--kubeconfig=${cfg.kubeconfigPath}`,
    '--leader-elect=false',
    `--controllers=${(cfg.controllers ?? DEFAULT_CONTROLLERS).join(',')}`,
    `--root-ca-file=${cfg.rootCaFile}`,
    `--service-account-private-key-file=${cfg.serviceAccountPrivateKeyFile}`,
    `--service-cluster-ip-range=${cfg.serviceCidr}`,
    '--use-service-account-credentials=true',
    '--profiling=false',
    '--kube-api-qps=100',
    '--kube-api-burst=200',
    ...(cfg.extraArgs ?? []),
  ];
}

/** One kube-controller-manager; ready when its /healthz answers `ok`. */
export class ControllerManager {
  readonly config: ControllerManagerConfig;
  readonly process: ManagedProcess;

  constructor(opts: { binary: string; dir: string; label: string; config: ControllerManagerConfig }) {
    this.config = opts.config;
    this.process = new ManagedProcess({
      name: `kube-controller-manager (${opts.label})`,
      command: opts.binary,
      args: controllerManagerArgs(opts.config),
      logFile: join(opts.dir, 'kube-controller-manager.log'),
    });
  }

  async start(timeoutMs = 60_000): Promise<void> {
    this.process.start();
    // Its serving certificate is self-signed; /healthz needs no client identity.
    await this.process.waitReady(
      httpProbe(`https://127.0.0.1:${this.config.port}/healthz`, { insecure: true }, (b) => b.trim() === 'ok'),
      { timeoutMs },
    );
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.process.stop({ signal, timeoutMs: 5_000 });
  }
}
