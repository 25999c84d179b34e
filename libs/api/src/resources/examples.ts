/**
 * One valid object of each kind, for tests and documentation. Each call returns a fresh copy.
 */
import { API_GROUP_VERSION } from '../constants.ts';
import type { Cluster } from './cluster.ts';
import type { Endpoint } from './endpoint.ts';
import type { Gateway } from './gateway.ts';
import type { NatMapping } from './nat-mapping.ts';
import type { TunnelEndpoint } from './tunnel-endpoint.ts';

/** A syntactically valid WireGuard public key (not a real peer's). */
export const EXAMPLE_WIREGUARD_PUBLIC_KEY = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';

export const examples = {
  cluster: (name = 'cluster-b'): Cluster => ({
    apiVersion: API_GROUP_VERSION,
    kind: 'Cluster',
    metadata: { name },
    spec: {
      clusterID: 'cluster-b',
      podCIDRs: ['10.20.0.0/16', 'fd00:20::/56'],
      serviceCIDRs: ['10.21.0.0/16'],
      externalCIDR: '10.22.0.0/16',
    },
  }),
  endpoint: (name = 'cluster-b'): Endpoint => ({
    apiVersion: API_GROUP_VERSION,
    kind: 'Endpoint',
    metadata: { name },
    spec: {
      clusterID: 'cluster-b',
      hostname: 'gw-1.cluster-b.example',
      privateIP: '192.168.1.10',
      publicIP: '203.0.113.10',
      backend: 'wireguard',
      backendConfig: { wireguard: { publicKey: EXAMPLE_WIREGUARD_PUBLIC_KEY, port: 51820 } },
      subnets: ['10.20.0.0/16', '10.21.0.0/16'],
      healthCheckIP: '10.20.0.1',
    },
  }),
  tunnelEndpoint: (name = 'cluster-b'): TunnelEndpoint => ({
    apiVersion: API_GROUP_VERSION,
    kind: 'TunnelEndpoint',
    metadata: { name },
    spec: {
      remoteClusterID: 'cluster-b',
      endpoint: { address: '203.0.113.10', port: 51820 },
      backend: 'wireguard',
      backendConfig: { wireguard: { publicKey: EXAMPLE_WIREGUARD_PUBLIC_KEY, port: 51820 } },
      remote: { podCIDRs: ['10.20.0.0/16'], externalCIDR: '10.22.0.0/16' },
      remap: { localPodCIDR: '10.110.0.0/16', remotePodCIDR: '10.120.0.0/16' },
      mtu: 1420,
    },
  }),
  natMapping: (name = 'cluster-b'): NatMapping => ({
    apiVersion: API_GROUP_VERSION,
    kind: 'NatMapping',
    metadata: { name },
    spec: {
      clusterID: 'cluster-b',
      podCIDR: '10.120.0.0/16',
      externalCIDR: '10.32.0.0/16',
      entries: [
        { externalIP: '10.32.0.5', realIP: '192.168.50.5', description: 'database outside the cluster' },
        { externalIP: '10.32.0.6', realIP: '10.10.3.7' },
      ],
    },
  }),
  gateway: (name = 'gateway-0'): Gateway => ({
    apiVersion: API_GROUP_VERSION,
    kind: 'Gateway',
    metadata: { name },
    spec: { node: 'node-1', clusterID: 'cluster-a' },
    status: {
      role: 'active',
      node: 'node-1',
      lastTransitionTime: '2025-01-01T00:00:00Z',
      connections: [
        {
          cluster: 'cluster-b',
          status: 'Connected',
          latency: { lastMs: 1.2, minMs: 0.9, averageMs: 1.1, maxMs: 2.4, stdDevMs: 0.2, samples: 60 },
          rxBytes: 123456,
          txBytes: 654321,
          lastHandshakeTime: '2025-01-01T00:00:05Z',
        },
      ],
    },
  }),
};
