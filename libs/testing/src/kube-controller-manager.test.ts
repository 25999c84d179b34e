import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTROLLERS, controllerManagerArgs } from './kube-controller-manager.ts';

describe('controllerManagerArgs', () => {
  const cfg = {
    port: 10257,
    kubeconfigPath: '/c/kcm.kubeconfig',
    certDir: '/c/kcm',
    rootCaFile: '/c/ca.crt',
    serviceAccountPrivateKeyFile: '/c/sa.key',
    serviceCidr: '10.96.0.0/16',
  };

  it('runs without leader election on loopback with the controllers Strait relies on', () => {
    const args = controllerManagerArgs(cfg);
    expect(args).toEqual(
      expect.arrayContaining([
        '--bind-address=127.0.0.1',
        '--secure-port=10257',
        '--kubeconfig=/c/kcm.kubeconfig',
        '--leader-elect=false',
        '--root-ca-file=/c/ca.crt',
        '--service-account-private-key-file=/c/sa.key',
        '--use-service-account-credentials=true',
      ]),
    );
    const controllers = args.find((a) => a.startsWith('--controllers='))?.split('=')[1]?.split(',');
    for (const c of ['endpoints-controller', 'endpointslice-controller', 'namespace-controller', 'serviceaccount-controller',
      'serviceaccount-token-controller', 'garbage-collector-controller']) {
      expect(controllers).toContain(c);
    }
    expect(controllers).toEqual([...DEFAULT_CONTROLLERS]);
  });

  it('takes another controller list and extra flags', () => {
    const args = controllerManagerArgs({ ...cfg, controllers: ['namespace-controller'], extraArgs: ['--v=2'] });
    expect(args).toContain('--controllers=namespace-controller');
    expect(args.at(-1)).toBe('--v=2');
  });
});
