import type { TopologySpec } from '@strait/testing';

/** Cable drivers the lab can be asked for; `mixed` gives each pair of clusters a driver in turn. */
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
 * Problems with the options, as messages naming the flag; empty when they can be built. Drivers other
 * than WireGuard are refused for now: the tunnel-operator advertises WireGuard in its cluster's Endpoint,
 * so a lab joined through the Broker cannot choose IPsec or VXLAN yet.
 */
export function labOptionProblems(o: LabOptions): string[] {
  const out: string[] = [];
  if (!Number.isInteger(o.clusters) || o.clusters < 1 || o.clusters > 8) out.push('--clusters must be from 1 to 8');
  if (!Number.isInteger(o.gateways) || o.gateways < 1 || o.gateways > 4) out.push('--gateways must be from 1 to 4');
  if (!Number.isInteger(o.workers) || o.workers < 0 || o.workers > 8) out.push('--workers must be from 0 to 8');
  if (!(LAB_DRIVERS as readonly string[]).includes(o.driver)) out.push(`--driver must be one of ${LAB_DRIVERS.join(', ')}`);
  else if (o.driver !== 'wireguard') {
    out.push(
      `--driver=${o.driver} is not available yet: the tunnel-operator advertises only WireGuard in its cluster's Endpoint, from which broker-sync makes the peers' TunnelEndpoints (use --driver=wireguard)`,
    );
  }
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
