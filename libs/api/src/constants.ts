/**
 * Names shared by every Strait service: API group, labels, finalizers, and the datapath objects
 * the gateway owns. Changing one of these is a breaking change for running clusters.
 */

export const API_GROUP = 'net.strait.io';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}` as const;

/** Pod label kept by the labeler on every gateway pod; the gateway Service selects `active`. */
export const GATEWAY_ROLE_LABEL = 'net.strait.io/gateway';
export const GATEWAY_ROLES = ['active', 'standby'] as const;
export type GatewayRole = (typeof GATEWAY_ROLES)[number];
export const GATEWAY_ROLE_ACTIVE: GatewayRole = 'active';
export const GATEWAY_ROLE_STANDBY: GatewayRole = 'standby';

/**
 * Label (and value) every gateway pod carries, whatever its role: the labeler selects the gateway pods by
 * it (`GATEWAY_POD_SELECTOR`) and the gateway Service by it together with `GATEWAY_ROLE_LABEL`.
 */
export const GATEWAY_APP_LABEL = 'app.kubernetes.io/name';
export const GATEWAY_APP_LABEL_VALUE = 'strait-gateway';
export const GATEWAY_POD_SELECTOR = `${GATEWAY_APP_LABEL}=${GATEWAY_APP_LABEL_VALUE}` as const;
/**
 * Default name of the gateway Lease (in Strait's namespace): its holder is the active gateway pod. The
 * tunnel-operator replicas compete for it; the labeler and the route agents follow its holder.
 */
export const GATEWAY_LEASE_NAME = 'strait-gateway';

/**
 * Annotation on a TunnelEndpoint: the remote gateway's in-tunnel health-check address as this cluster
 * addresses it (remapped when the remote pod CIDR is). broker-sync writes it from the remote Endpoint's
 * `healthCheckIP`; tunnel-operator probes it.
 */
export const HEALTH_CHECK_IP_ANNOTATION = 'net.strait.io/health-check-ip';

/** Node label that designates gateway nodes. */
export const GATEWAY_NODE_LABEL = 'strait.io/gateway';
export const GATEWAY_NODE_LABEL_VALUE = 'true';

/** Label on Broker objects naming the member cluster that wrote them (enforced by admission policy). */
export const ORIGIN_CLUSTER_LABEL = 'net.strait.io/origin-cluster';
/** Label on local objects produced from a remote cluster (TunnelEndpoint, NatMapping): its cluster ID. */
export const REMOTE_CLUSTER_LABEL = 'net.strait.io/remote-cluster';
/** Standard label naming the Strait component that manages an object. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'strait';

/** Finalizers: the datapath owned for an object is torn down before the object goes. */
export const FINALIZERS = {
  tunnel: 'net.strait.io/tunnel',
  natMapping: 'net.strait.io/natmapping',
  brokerExport: 'net.strait.io/broker-export',
} as const;

/** Host policy routing: traffic from remote clusters is looked up in this table. */
export const ROUTING_TABLE_ID = 18952;
/** Network namespace holding tunnel links, per-peer routes and Strait's nftables table. */
export const GATEWAY_NETNS = 'strait-netns';
/** veth pair joining the host (`strait.host`) to the gateway namespace (`strait.gateway`). */
export const HOST_VETH = 'strait.host';
export const GATEWAY_VETH = 'strait.gateway';
/** The one nftables table Strait owns inside the gateway namespace. */
export const NFT_TABLE_FAMILY = 'inet';
export const NFT_TABLE_NAME = 'strait';
export const NFT_TABLE = `${NFT_TABLE_FAMILY} ${NFT_TABLE_NAME}` as const;
/** Route agent's overlay towards the active gateway when it is not on-link. */
export const VXLAN_LINK = 'vx-strait';

/** NATS subjects (hints only: receivers re-read Kubernetes before acting). */
export const subjects = {
  /** Leader changes of the gateway of `cluster`. */
  gatewayLeader: (cluster: string) => `strait.${token(cluster, 'cluster')}.gateway.leader`,
  /** Tunnel status of `cluster` towards `peer`. */
  tunnelStatus: (cluster: string, peer: string) => `strait.${token(cluster, 'cluster')}.tunnel.${token(peer, 'peer')}.status`,
  /** Every tunnel status of `cluster` (subscription wildcard). */
  tunnelStatusAll: (cluster: string) => `strait.${token(cluster, 'cluster')}.tunnel.*.status`,
  /** Endpoint changes of `cluster`, published through the Broker side. */
  brokerEndpoint: (cluster: string) => `strait.broker.endpoint.${token(cluster, 'cluster')}`,
  /** Every Endpoint change (subscription wildcard). */
  brokerEndpointAll: () => 'strait.broker.endpoint.*',
} as const;

/**
 * A subject token must be a cluster ID (DNS-1123 label): no dots, wildcards or spaces that
 * would change the meaning of the subject.
 */
function token(value: string, what: string): string {
  if (typeof value !== 'string' || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(value)) {
    throw new Error(`NATS subject ${what} must be a cluster ID (DNS-1123 label), got ${JSON.stringify(value)}`);
  }
  return value;
}
