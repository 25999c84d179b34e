import { ConfigError, parseConfig } from '@strait/runtime';
import { describe, expect, it } from 'vitest';
import { configSpec } from './config.ts';

const parse = (argv: string[], env: Record<string, string> = {}) => parseConfig(configSpec, ['--cluster-id=c1', ...argv], env);

function problem(argv: string[]): string {
  try {
    parse(argv);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
}

describe('broker-sync config', () => {
  it('defaults: Broker namespace strait-broker on the local cluster, remap pool 100.64.0.0/10, heartbeat 30s, stale after 5m', () => {
    expect(parse([])).toMatchObject({
      namespace: 'strait-system',
      brokerNamespace: 'strait-broker',
      brokerKubeconfig: undefined,
      remapPool: ['100.64.0.0/10'],
      heartbeatInterval: 30_000,
      staleAfter: 300_000,
      podCidrs: [],
      leaseName: 'strait-broker-sync',
    });
  });

  it('reads the address plan and the identity', () => {
    expect(parse(['--pod-cidrs=10.1.0.0/16,fd00:1::/56', '--service-cidrs=10.96.0.0/16', '--external-cidr=10.250.0.0/24', '--remap-pool=100.64.0.0/12,fd99::/40', '--stale-after=0'], { POD_NAME: 'bs-1' })).toMatchObject({
      podCidrs: ['10.1.0.0/16', 'fd00:1::/56'],
      serviceCidrs: ['10.96.0.0/16'],
      externalCidr: '10.250.0.0/24',
      remapPool: ['100.64.0.0/12', 'fd99::/40'],
      staleAfter: 0,
      podName: 'bs-1',
    });
  });

  it.each([
    [['--pod-cidrs=10.1.0.1/16', '--service-cidrs=10.96.0.0/16'], /--pod-cidrs.*host bits set; the network is 10\.1\.0\.0\/16/],
    [['--pod-cidrs=10.1.0.0/16'], /--pod-cidrs and --service-cidrs go together/],
    [['--external-cidr=10.250.0.0/24'], /--external-cidr needs --pod-cidrs/],
    [['--remap-pool=nope'], /--remap-pool.*not a CIDR/],
    [['--broker-namespace=strait-system'], /--broker-namespace must differ from --namespace/],
    [['--heartbeat-interval=10s', '--stale-after=15s'], /--stale-after \(15s\) must be 0 or at least twice --heartbeat-interval \(10s\)/],
  ])('refuses %j', (argv, message) => {
    expect(problem(argv)).toMatch(message);
  });
});
