import { EXAMPLE_WIREGUARD_PUBLIC_KEY, HEARTBEAT_ANNOTATION, ORIGIN_CLUSTER_LABEL, REMAPS_ANNOTATION, type Cluster, type Endpoint } from '@strait/api';

/** Test support: a remote cluster's objects as they sit on the Broker. */
export function brokerCluster(id: string, podCIDR: string, o: { namespace?: string; remaps?: Record<string, string>; heartbeat?: string; externalCIDR?: string } = {}): Cluster {
  const annotations: Record<string, string> = {};
  if (o.remaps) annotations[REMAPS_ANNOTATION] = JSON.stringify(Object.fromEntries(Object.entries(o.remaps).map(([k, v]) => [k, { podCIDR: v }])));
  if (o.heartbeat) annotations[HEARTBEAT_ANNOTATION] = o.heartbeat;
  return {
    apiVersion: 'net.strait.io/v1alpha1',
    kind: 'Cluster',
    metadata: { name: id, namespace: o.namespace ?? 'strait-broker', labels: { [ORIGIN_CLUSTER_LABEL]: id }, annotations },
    spec: { clusterID: id, podCIDRs: [podCIDR], serviceCIDRs: ['10.96.0.0/16'], ...(o.externalCIDR ? { externalCIDR: o.externalCIDR } : {}) },
  } as Cluster;
}

export function brokerEndpoint(id: string, ip: string, o: { namespace?: string; healthCheckIP?: string; publicKey?: string } = {}): Endpoint {
  return {
    apiVersion: 'net.strait.io/v1alpha1',
    kind: 'Endpoint',
    metadata: { name: id, namespace: o.namespace ?? 'strait-broker', labels: { [ORIGIN_CLUSTER_LABEL]: id } },
    spec: {
      clusterID: id,
      hostname: `${id}-gw`,
      privateIP: ip,
      backend: 'wireguard',
      backendConfig: { wireguard: { publicKey: o.publicKey ?? EXAMPLE_WIREGUARD_PUBLIC_KEY, port: 51820 } },
      subnets: ['10.0.0.0/8'],
      ...(o.healthCheckIP ? { healthCheckIP: o.healthCheckIP } : {}),
    },
  } as Endpoint;
}
