import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { firstServiceIp } from './cidr.ts';
import { Etcd } from './etcd.ts';
import { ApiServer } from './kube-apiserver.ts';
import { ControllerManager } from './kube-controller-manager.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { createCa, createServiceAccountKeys, issueClientCert, issueServerCert, type CertFiles, type CertificateAuthority, type ServiceAccountKeys } from './pki.ts';
import { freePort, withPortRetry } from './ports.ts';
import type { ClusterHandle, ClusterUser } from './types.ts';
import { createClusterUser, loadKubeConfig } from './users.ts';

export const DEFAULT_SERVICE_CIDR = '10.96.0.0/16';
const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

export interface ClusterBinaries {
  etcd: string;
  apiServer: string;
  controllerManager?: string;
}

export interface ClusterSpec {
  name: string;
  /** This cluster's directory (created). */
  dir: string;
  binaries: ClusterBinaries;
  controllerManager: boolean;
  serviceCidr: string;
  apiServerArgs?: readonly string[];
  controllerManagerArgs?: readonly string[];
  progress?: (msg: string) => void;
}

export function assertClusterName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new Error(`cluster name ${JSON.stringify(name)} is not a DNS label (lower-case letters, digits and "-", at most 40 characters)`);
  }
}

/** DNS names and IPs in the kube-apiserver serving certificate. */
export function apiServerSans(serviceCidr: string): { dnsNames: string[]; ips: string[] } {
  return {
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    ips: ['127.0.0.1', firstServiceIp(serviceCidr)],
  };
}

interface Pki {
  ca: CertificateAuthority;
  serving: CertFiles;
  admin: CertFiles;
  controllerManager: CertFiles;
  serviceAccount: ServiceAccountKeys;
}

/** One Kubernetes control plane: its own etcd, CA, kube-apiserver and optionally kube-controller-manager. */
export class Cluster implements ClusterHandle {
  readonly name: string;
  readonly dir: string;
  readonly controllerManager: boolean;
  readonly serviceCidr: string;
  readonly kubeconfigPath: string;
  private readonly spec: ClusterSpec;
  private pki: Pki | undefined;
  private etcd: Etcd | undefined;
  private apiServer: ApiServer | undefined;
  private kcm: ControllerManager | undefined;

  constructor(spec: ClusterSpec) {
    assertClusterName(spec.name);
    if (spec.controllerManager && !spec.binaries.controllerManager) {
      throw new Error(`cluster ${spec.name}: kube-controller-manager requested but its binary was not given`);
    }
    firstServiceIp(spec.serviceCidr); // validates
    this.spec = spec;
    this.name = spec.name;
    this.dir = spec.dir;
    this.controllerManager = spec.controllerManager;
    this.serviceCidr = spec.serviceCidr;
    this.kubeconfigPath = join(spec.dir, 'admin.kubeconfig');
  }

  get server(): string {
    if (!this.apiServer) throw new Error(`cluster ${this.name} has no kube-apiserver yet`);
    return this.apiServer.url;
  }
  get caFile(): string {
    return join(this.dir, 'pki', 'ca.crt');
  }
  get etcdUrl(): string {
    if (!this.etcd) throw new Error(`cluster ${this.name} has no etcd yet`);
    return this.etcd.clientUrl;
  }

  private progress(msg: string): void {
    this.spec.progress?.(`${this.name}: ${msg}`);
  }

  /** Certificates and keys: CA, apiserver serving cert, admin and controller-manager identities, SA keys. */
  async createPki(): Promise<void> {
    const t = performance.now();
    const pkiDir = join(this.dir, 'pki');
    await mkdir(pkiDir, { recursive: true });
    const ca = await createCa(pkiDir, `strait-${this.name}-ca`);
    const [serving, admin, controllerManager, serviceAccount] = await Promise.all([
      issueServerCert(ca, { name: 'apiserver', commonName: 'kube-apiserver', ...apiServerSans(this.serviceCidr) }),
      issueClientCert(ca, { name: 'admin', commonName: 'strait-admin', groups: ['system:masters'] }),
      issueClientCert(ca, { name: 'kube-controller-manager', commonName: 'system:kube-controller-manager' }),
      createServiceAccountKeys(pkiDir),
    ]);
    this.pki = { ca, serving, admin, controllerManager, serviceAccount };
    this.progress(`certificates ready (${ms(t)})`);
  }

  private requirePki(): Pki {
    if (!this.pki) throw new Error(`cluster ${this.name}: certificates not created yet`);
    return this.pki;
  }

  async startEtcd(): Promise<void> {
    const t = performance.now();
    await withPortRetry(async () => {
      const [clientPort, peerPort] = [await freePort(), await freePort()];
      this.etcd = new Etcd({ binary: this.spec.binaries.etcd, dir: this.dir, clientPort, peerPort, label: this.name });
      await this.etcd.start();
    });
    this.progress(`etcd ready at ${this.etcdUrl} (${ms(t)})`);
  }

  private async firstApiServerStart(): Promise<void> {
    const pki = this.requirePki();
    const etcdUrl = this.etcdUrl;
    const t = performance.now();
    await withPortRetry(async () => {
      const port = await freePort();
      this.apiServer = new ApiServer({
        binary: this.spec.binaries.apiServer,
        dir: this.dir,
        label: this.name,
        probeCert: pki.admin,
        config: {
          port,
          etcdUrl,
          caFile: pki.ca.certFile,
          servingCertFile: pki.serving.certFile,
          servingKeyFile: pki.serving.keyFile,
          serviceAccountPrivateKeyFile: pki.serviceAccount.privateKeyFile,
          serviceAccountPublicKeyFile: pki.serviceAccount.publicKeyFile,
          serviceCidr: this.serviceCidr,
          certDir: join(this.dir, 'apiserver-certs'),
          ...(this.spec.apiServerArgs ? { extraArgs: this.spec.apiServerArgs } : {}),
        },
      });
      await this.apiServer.start();
    });
    await writeKubeconfig(this.kubeconfigPath, {
      clusterName: this.name,
      server: this.server,
      caFile: pki.ca.certFile,
      userName: 'strait-admin',
      certFile: pki.admin.certFile,
      keyFile: pki.admin.keyFile,
    });
    this.progress(`kube-apiserver ready at ${this.server} (${ms(t)})`);
  }

  private async firstControllerManagerStart(): Promise<void> {
    const pki = this.requirePki();
    const t = performance.now();
    const kubeconfigPath = join(this.dir, 'kube-controller-manager.kubeconfig');
    await writeKubeconfig(kubeconfigPath, {
      clusterName: this.name,
      server: this.server,
      caFile: pki.ca.certFile,
      userName: 'system:kube-controller-manager',
      certFile: pki.controllerManager.certFile,
      keyFile: pki.controllerManager.keyFile,
    });
    await withPortRetry(async () => {
      const port = await freePort();
      this.kcm = new ControllerManager({
        binary: this.spec.binaries.controllerManager as string,
        dir: this.dir,
        label: this.name,
        config: {
          port,
          kubeconfigPath,
          certDir: join(this.dir, 'kube-controller-manager-certs'),
          rootCaFile: pki.ca.certFile,
          serviceAccountPrivateKeyFile: pki.serviceAccount.privateKeyFile,
          serviceCidr: this.serviceCidr,
          ...(this.spec.controllerManagerArgs ? { extraArgs: this.spec.controllerManagerArgs } : {}),
        },
      });
      await this.kcm.start();
    });
    this.progress(`kube-controller-manager ready (${ms(t)})`);
  }

  /** First start of kube-apiserver and (if configured) kube-controller-manager. */
  async startKube(): Promise<void> {
    await this.firstApiServerStart();
    if (this.controllerManager) await this.firstControllerManagerStart();
  }

  kubeConfig(): KubeConfig {
    return loadKubeConfig(this.kubeconfigPath);
  }

  addUser(name: string, groups: string[] = []): Promise<ClusterUser> {
    return createClusterUser({ clusterName: this.name, server: this.server, caFile: this.caFile, dir: this.dir }, name, groups);
  }

  async stopApiServer(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (!this.apiServer) throw new Error(`cluster ${this.name} has no kube-apiserver`);
    await this.apiServer.stop(signal);
    this.progress(`kube-apiserver stopped (${signal})`);
  }

  async startApiServer(): Promise<void> {
    if (!this.apiServer) throw new Error(`cluster ${this.name} has no kube-apiserver`);
    if (this.apiServer.process.running) return;
    const t = performance.now();
    await this.apiServer.start();
    this.progress(`kube-apiserver ready again at ${this.server} (${ms(t)})`);
  }

  async stopControllerManager(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (!this.kcm) throw new Error(`cluster ${this.name} runs no kube-controller-manager`);
    await this.kcm.stop(signal);
  }

  async startControllerManager(): Promise<void> {
    if (!this.kcm) throw new Error(`cluster ${this.name} runs no kube-controller-manager`);
    if (!this.kcm.process.running) await this.kcm.start();
  }

  pids(): number[] {
    return [this.kcm, this.apiServer, this.etcd]
      .filter((c) => c?.process.running)
      .map((c) => c?.process.pid)
      .filter((p): p is number => p !== undefined);
  }

  /** Stops kube-controller-manager, then kube-apiserver, then etcd; waits for each to exit. */
  async stop(): Promise<void> {
    await this.kcm?.stop();
    await this.apiServer?.stop();
    await this.etcd?.stop();
  }
}

function ms(start: number): string {
  const d = performance.now() - start;
  return d < 1000 ? `${Math.round(d)} ms` : `${(d / 1000).toFixed(1)} s`;
}
