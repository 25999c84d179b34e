import type { Backend } from '@strait/api';
import type { TopologySpec } from '@strait/testing';

/**
 * Cable drivers the lab can be asked for. One driver: every tunnel-operator offers only it. `mixed`: each
 * cluster offers two drivers in rotation (MIXED_ROTATION), so every pair of clusters has one in common and
 * a gateway runs two drivers at once.
 */
export const LAB_DRIVERS = ['wireguard', 'ipsec', 'vxlan', 'mixed'] as const;
export type LabDriver = (typeof LAB_DRIVERS)[number];

/** What `straitctl lab up` was asked for. */
export interface LabOptions {
  clusters: number;
  driver: LabDriver;
  /** Every cluster uses the same pod CIDR; peers reach each other through remapped CIDRs. */
  overlap: boolean;
  /** Gateway nodes per cluster (active/standby). */
  gateways: number;
  /** Worker nodes per cluster. */
  workers: number;
}

export const DEFAULT_LAB_OPTIONS: LabOptions = { clusters: 2, driver: 'wireguard', overlap: false, gateways: 2, workers: 1 };

/** The pod CIDR every cluster gets under `--overlap`. */
export const OVERLAP_POD_CIDR = '10.0.0.0/16';

/** `cluster-1`, `cluster-2`, … : Kubernetes cluster ids, topology cluster names and log directories. */
export function memberNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `cluster-${i + 1}`);
}

/** The pod CIDR of member cluster `number` (1-based). */
export function podCidrOf(number: number, overlap: boolean): string {
  return overlap ? OVERLAP_POD_CIDR : `10.${number}.0.0/16`;
}

/** The gateways' in-tunnel health-check address: the last host of the pod CIDR (a slice no node uses). */
export function healthCheckIpOf(podCidr: string): string {
  const [a, b] = podCidr.split('/')[0]!.split('.');
  return `${a}.${b}.255.254`;
}

/**
 * `--driver=mixed`: cluster i (1-based) offers MIXED_ROTATION[(i - 1) % 3], the preferred one first.
 * Clusters 1 and 2 share only WireGuard, 1 and 3 only VXLAN, 2 and 3 only IPsec (then the rotation repeats).
 */
export const MIXED_ROTATION: readonly (readonly Backend[])[] = [
  ['wireguard', 'vxlan'],
  ['ipsec', 'wireguard'],
  ['vxlan', 'ipsec'],
];

/** The `--backends` of the tunnel-operators of member cluster `number` (1-based). */
export function labBackendsOf(driver: LabDriver, number: number): readonly Backend[] {
  return driver === 'mixed' ? MIXED_ROTATION[(number - 1) % MIXED_ROTATION.length]! : [driver];
}

/** `--clusters` when not given: 3 for `mixed` (with 2 only their one common driver would be used), else 2. */
export function defaultClusters(driver: LabDriver): number {
  return driver === 'mixed' ? 3 : DEFAULT_LAB_OPTIONS.clusters;
}

/** Problems with the options, as messages naming the flag; empty when they can be built. */
export function labOptionProblems(o: LabOptions): string[] {
  const out: string[] = [];
  if (!Number.isInteger(o.clusters) || o.clusters < 1 || o.clusters > 8) out.push('--clusters must be from 1 to 8');
  if (!Number.isInteger(o.gateways) || o.gateways < 1 || o.gateways > 4) out.push('--gateways must be from 1 to 4');
  if (!Number.isInteger(o.workers) || o.workers < 0 || o.workers > 8) out.push('--workers must be from 0 to 8');
  if (!(LAB_DRIVERS as readonly string[]).includes(o.driver)) out.push(`--driver must be one of ${LAB_DRIVERS.join(', ')}`);
  return out;
}

/** The network of a lab: per cluster a node network with G gateways (also on the WAN) and W workers, one pod per node. */
export function labTopologySpec(runId: string, o: LabOptions): TopologySpec {
  return {
    runId,
    clusters: memberNames(o.clusters).map((name, i) => ({
      name,
      podCIDR: podCidrOf(i + 1, o.overlap),
      gateways: o.gateways,
      workers: o.workers,
      podsPerNode: 1,
    })),
  };
}
