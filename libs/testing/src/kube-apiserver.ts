import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess } from './process.ts';
import { httpProbe } from './probe.ts';

export interface ApiServerConfig {
  port: number;
  etcdUrl: string;
  /** Key prefix in etcd (default /registry). */
  etcdPrefix?: string;
  /** Verifies client certificates; also the CA of the serving cert. */
  caFile: string;
  servingCertFile: string;
  servingKeyFile: string;
  serviceAccountPrivateKeyFile: string;
  serviceAccountPublicKeyFile: string;
  serviceCidr: string;
  /** Scratch directory for anything the apiserver wants to write (`--cert-dir`). */
  certDir: string;
  extraArgs?: readonly string[];
}

export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/**
 * Flags for a small, single-instance kube-apiserver on loopback: client-cert authentication,
 * RBAC authorization, bound service-account tokens, the default admission chain (which includes
 * ValidatingAdmissionPolicy), and no API priority and fairness, profiling or periodic etcd polling.
 */
export function apiServerArgs(cfg: ApiServerConfig): string[] {
  return [
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${cfg.port}`,
    `--cert-dir=${cfg.certDir}`,
    `--tls-cert-file=${cfg.servingCertFile}`,
    `--tls-private-key-file=${cfg.servingKeyFile}`,
    `--client-ca-file=${cfg.caFile}`,
    '--authorization-mode=RBAC',
    `--etcd-servers=${cfg.etcdUrl}`,
    `--etcd-prefix=${cfg.etcdPrefix ?? '/registry'}`,
    `--service-cluster-ip-range=${cfg.serviceCidr}`,
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${cfg.serviceAccountPublicKeyFile}`,
    `--service-account-signing-key-file=${cfg.serviceAccountPrivateKeyFile}`,
    '--allow-privileged=true',
    '--enable-priority-and-fairness=false',
    '--profiling=false',
    '--event-ttl=15m',
    '--etcd-count-metric-poll-period=0',
    '--etcd-db-metric-poll-interval=0',
    // The `kubernetes` Service's endpoints would carry 127.0.0.1, which Endpoints validation rejects.
    '--endpoint-reconciler-type=none',
    ...(cfg.extraArgs ?? []),
  ];
}

/** One kube-apiserver. stop()/start() keep its port and (through etcd) its data. */
export class ApiServer {
  readonly config: ApiServerConfig;
  readonly process: ManagedProcess;
  private readonly probeTls: { ca: Buffer; cert: Buffer; key: Buffer };

  constructor(opts: {
    binary: string;
    dir: string;
    label: string;
    config: ApiServerConfig;
    /** Client certificate used by the readiness probe (the admin). */
    probeCert: { certFile: string; keyFile: string };
  }) {
    this.config = opts.config;
    this.process = new ManagedProcess({
      name: `kube-apiserver (${opts.label})`,
      command: opts.binary,
      args: apiServerArgs(opts.config),
      logFile: join(opts.dir, 'kube-apiserver.log'),
    });
    this.probeTls = {
      ca: readFileSync(opts.config.caFile),
      cert: readFileSync(opts.probeCert.certFile),
      key: readFileSync(opts.probeCert.keyFile),
    };
  }

  get url(): string {
    return `https://127.0.0.1:${this.config.port}`;
  }

  /** Starts the process and resolves when /readyz answers `ok`. */
  async start(timeoutMs = 90_000): Promise<void> {
    this.process.start();
    await this.process.waitReady(httpProbe(`${this.url}/readyz`, this.probeTls, (b) => b.trim() === 'ok'), {
      timeoutMs,
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.process.stop({ signal, timeoutMs: 10_000 });
  }
}
