import { describe, expect, it } from 'vitest';
import { LAB_SERVICES, SERVICE_PLACEMENT, serviceArgs } from './services.ts';

describe('serviceArgs', () => {
  const base = { cluster: 'cluster-1', probePort: 9999, kubeconfig: '/k', brokerKubeconfig: '/b', nodeName: 'cluster-1-g1' };
  const gateway = { ...base, gatewayNetns: 'slab-cluster-1-g1-sn', podName: 'strait-gateway-cluster-1-g1', endpointIp: '172.31.0.2', podCidr: '10.1.0.0/16', stateDir: '/lab/nodes/g1' };

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

  it('gives the tunnel-operator its pod identity, gateway namespace, WAN address, pod CIDR and health-check address', () => {
    expect(serviceArgs({ ...gateway, service: 'tunnel-operator' })).toEqual(
      expect.arrayContaining([
        '--node-name=cluster-1-g1',
        '--pod-name=strait-gateway-cluster-1-g1',
        '--netns-name=slab-cluster-1-g1-sn',
        '--state-dir=/lab/nodes/g1',
        '--pod-cidrs=10.1.0.0/16',
        '--health-check-ip=10.1.255.254',
        '--endpoint-ip=172.31.0.2',
      ]),
    );
    expect(serviceArgs({ ...gateway, service: 'natmapping-operator' })).toContain('--netns-name=slab-cluster-1-g1-sn');
  });

  it("passes the cluster's cable drivers to the tunnel-operator, the preferred one first", () => {
    expect(serviceArgs({ ...gateway, service: 'tunnel-operator', backends: ['ipsec', 'wireguard'] })).toContain('--backends=ipsec,wireguard');
    expect(serviceArgs({ ...gateway, service: 'tunnel-operator' }).some((a) => a.startsWith('--backends'))).toBe(false);
    expect(serviceArgs({ ...gateway, service: 'natmapping-operator', backends: ['ipsec'] }).some((a) => a.startsWith('--backends'))).toBe(false);
  });

  it('broker-sync joins through the Broker with its member identity and writes its Cluster from the CIDRs', () => {
    expect(serviceArgs({ ...gateway, service: 'broker-sync', serviceCidr: '10.96.0.0/16' })).toEqual(
      expect.arrayContaining(['--broker-kubeconfig=/b', '--pod-cidrs=10.1.0.0/16', '--service-cidrs=10.96.0.0/16']),
    );
    expect(serviceArgs({ ...base, service: 'labeler-operator' }).some((a) => a.startsWith('--node-name'))).toBe(false);
  });

  it('places gateway services on gateway nodes, the route-agent on every node, the rest once per cluster', () => {
    expect(LAB_SERVICES.filter((s) => SERVICE_PLACEMENT[s] === 'gateway')).toEqual(['tunnel-operator', 'natmapping-operator']);
    expect(SERVICE_PLACEMENT['route-agent']).toBe('node');
  });
});

describe('replicaPodName', () => {
  it('names gateway replicas after the gateway, node services per node and cluster services per cluster', async () => {
    const { replicaPodName } = await import('./services.ts');
    expect(replicaPodName('tunnel-operator', 'cluster-1', 'cluster-1-g1')).toBe('strait-gateway-cluster-1-g1');
    expect(replicaPodName('route-agent', 'cluster-1', 'cluster-1-w1')).toBe('route-agent-cluster-1-w1');
    expect(replicaPodName('broker-sync', 'cluster-1', 'cluster-1-w1')).toBe('broker-sync-cluster-1');
  });
});
