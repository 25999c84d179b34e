import { describe, expect, it } from 'vitest';
import { LAB_SERVICES, serviceArgs } from './services.ts';

describe('serviceArgs', () => {
  const base = { cluster: 'cluster-1', probePort: 9999, kubeconfig: '/k', brokerKubeconfig: '/b', nodeName: 'cluster-1-gw-1', gatewayNetns: 'slab-c1-sn', stateDir: '/lab/nodes/c1' };

  it('gives every service its cluster, kubeconfig and a loopback probe address', () => {
    for (const service of LAB_SERVICES) {
      const args = serviceArgs({ ...base, service });
      expect(args[0]).toMatch(new RegExp(`apps/${service}/src/main\\.ts$`));
      expect(args).toContain('--cluster-id=cluster-1');
      expect(args).toContain('--kubeconfig=/k');
      expect(args).toContain('--probe-addr=127.0.0.1:9999');
    }
  });

  it('passes the NATS password as a file, never on the command line', () => {
    const args = serviceArgs({ ...base, service: 'route-agent', nats: { url: 'nats://127.0.0.1:4222', user: 'strait', passwordFile: '/s/p' } });
    expect(args).toContain('--nats-password-file=/s/p');
    expect(args.some((a) => a.startsWith('--nats-password='))).toBe(false);
  });

  it('points broker-sync at the Broker and node-local services at their node', () => {
    expect(serviceArgs({ ...base, service: 'broker-sync' })).toContain('--broker-kubeconfig=/b');
    expect(serviceArgs({ ...base, service: 'tunnel-operator' })).toEqual(
      expect.arrayContaining(['--node-name=cluster-1-gw-1', '--netns-name=slab-c1-sn', '--state-dir=/lab/nodes/c1']),
    );
    expect(serviceArgs({ ...base, service: 'natmapping-operator' })).toContain('--netns-name=slab-c1-sn');
    expect(serviceArgs({ ...base, service: 'labeler-operator' }).some((a) => a.startsWith('--node-name'))).toBe(false);
  });
});
