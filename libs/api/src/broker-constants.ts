/**
 * Names used between broker-sync instances through the Broker and on the local objects broker-sync
 * produces. Changing one of these is a breaking change for running cluster sets.
 */

/**
 * Annotation on a Cluster exported to the Broker: JSON object `{ "<peer cluster ID>": { "podCIDR": "<cidr>" } }`,
 * the remapped pod CIDR under which the exporting cluster addresses that peer. The peer presents its pods
 * under exactly that CIDR on traffic to the exporting cluster (TunnelEndpoint `spec.remap.localPodCIDR`).
 */
export const REMAPS_ANNOTATION = 'net.strait.io/remaps';
/** Annotation on a Cluster exported to the Broker: RFC 3339 time of its writer's last heartbeat. */
export const HEARTBEAT_ANNOTATION = 'net.strait.io/heartbeat';
/** Value of `app.kubernetes.io/component` on the objects broker-sync produces. */
export const BROKER_SYNC_COMPONENT = 'broker-sync';
/** Standard label naming the component inside Strait. */
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
/** User name of a member cluster's identity on the Broker: `strait:member:<cluster ID>`. */
export const BROKER_MEMBER_USER_PREFIX = 'strait:member:';
/** Group every member identity belongs to on the Broker. */
export const BROKER_MEMBERS_GROUP = 'strait:members';
/** Default pool of remapped pod CIDRs (IPv4 shared address space, RFC 6598). */
export const DEFAULT_REMAP_POOL = '100.64.0.0/10';
