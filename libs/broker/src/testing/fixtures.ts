import { EXAMPLE_WIREGUARD_PUBLIC_KEY, type Backend, type EndpointBackendConfig, HEARTBEAT_ANNOTATION, ORIGIN_CLUSTER_LABEL, REMAPS_ANNOTATION, type Cluster, type Endpoint } from '@strait/api';

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

/** The settings a gateway of cluster `id` offers for each of `backends`. */
export function offerConfig(id: string, backends: readonly Backend[], publicKey = EXAMPLE_WIREGUARD_PUBLIC_KEY): EndpointBackendConfig {
  const all: EndpointBackendConfig = {
    wireguard: { publicKey, port: 51820 },
    ipsec: { ikeID: id, port: 500, natTPort: 4500 },
    vxlan: { port: 4789 },
  };
  return Object.fromEntries(backends.map((b) => [b, all[b]])) as EndpointBackendConfig;
}

/** A remote cluster's Endpoint as it sits on the Broker; `backends` are its offers, the preferred one first (default wireguard). */
export function brokerEndpoint(id: string, ip: string, o: { namespace?: string; healthCheckIP?: string; publicKey?: string; backends?: readonly Backend[] } = {}): Endpoint {
  const backends = o.backends ?? ['wireguard'];
  return {
    apiVersion: 'net.strait.io/v1alpha1',
    kind: 'Endpoint',
    metadata: { name: id, namespace: o.namespace ?? 'strait-broker', labels: { [ORIGIN_CLUSTER_LABEL]: id } },
    spec: {
      clusterID: id,
      hostname: `${id}-gw`,
      privateIP: ip,
      backend: backends[0],
      backendConfig: offerConfig(id, backends, o.publicKey),
      subnets: ['10.0.0.0/8'],
      ...(o.healthCheckIP ? { healthCheckIP: o.healthCheckIP } : {}),
    },
  } as Endpoint;
}
