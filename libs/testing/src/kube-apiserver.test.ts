import { describe, expect, it } from 'vitest';
import { SERVICE_ACCOUNT_ISSUER, apiServerArgs, type ApiServerConfig } from './kube-apiserver.ts';

const cfg: ApiServerConfig = {
  port: 6443,
  etcdUrl: 'http://127.0.0.1:2379',
  caFile: '/p/ca.crt',
  servingCertFile: '/p/apiserver.crt',
  servingKeyFile: '/p/apiserver.key',
  serviceAccountPrivateKeyFile: '/p/sa.key',
  serviceAccountPublicKeyFile: '/p/sa.pub',
  serviceCidr: '10.96.0.0/16',
  certDir: '/p/certs',
};

describe('apiServerArgs', () => {
  it('serves on loopback with client certificates, RBAC and service-account keys', () => {
    const args = apiServerArgs(cfg);
    expect(args).toEqual(
      expect.arrayContaining([
        '--bind-address=127.0.0.1',
        '--secure-port=6443',
        '--client-ca-file=/p/ca.crt',
        '--tls-cert-file=/p/apiserver.crt',
        '--tls-private-key-file=/p/apiserver.key',
        '--authorization-mode=RBAC',
        '--etcd-servers=http://127.0.0.1:2379',
        '--etcd-prefix=/registry',
        '--service-cluster-ip-range=10.96.0.0/16',
        `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
        '--service-account-key-file=/p/sa.pub',
        '--service-account-signing-key-file=/p/sa.key',
        '--enable-priority-and-fairness=false',
      ]),
    );
  });

  it('keeps the default admission chain, so ValidatingAdmissionPolicy stays on', () => {
    const args = apiServerArgs(cfg);
    expect(args.some((a) => a.startsWith('--disable-admission-plugins') || a.startsWith('--admission-control'))).toBe(false);
    expect(args.some((a) => a.startsWith('--runtime-config'))).toBe(false);
  });

  it('appends extra flags and a custom etcd prefix', () => {
    const args = apiServerArgs({ ...cfg, etcdPrefix: '/c1', extraArgs: ['--v=4'] });
    expect(args).toContain('--etcd-prefix=/c1');
    expect(args.at(-1)).toBe('--v=4');
  });
});
