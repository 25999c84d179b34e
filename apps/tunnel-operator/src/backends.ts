import { BACKENDS, type Backend, type EndpointBackendConfig } from '@strait/api';

/**
 * The cable drivers this gateway offers in its cluster's Endpoint (`--backends`, the preferred one first) and
 * each one's public settings; broker-sync chooses one per pair of clusters from both offers (docs/adr/0011).
 */

/** UDP port of the VXLAN driver (the same on both gateways of a pair). */
export const VXLAN_PORT = 4789;
/** IKE port and NAT-T port of the IPsec driver (charon's defaults). */
export const IKE_PORT = 500;
export const NATT_PORT = 4500;

/** `--backends` item check: a known cable driver. */
export function backendNameProblem(name: string): string | undefined {
  return (BACKENDS as readonly string[]).includes(name) ? undefined : `is not a cable driver (one of ${BACKENDS.join(', ')})`;
}

/** `--backends` list check: no driver twice. */
export function backendsProblem(backends: readonly string[]): string | undefined {
  if (backends.length === 0) return '--backends: needs at least one cable driver';
  const twice = backends.find((b, i) => backends.indexOf(b) !== i);
  return twice === undefined ? undefined : `--backends: ${twice} is listed twice (each cable driver once, the preferred one first)`;
}

export interface OfferInput {
  readonly clusterId: string;
  readonly backends: readonly Backend[];
  /** Set once the WireGuard device is up (the key Secret has wireguard-private-key). */
  readonly wireguard: { readonly publicKey: string; readonly port: number } | undefined;
  /** The key Secret has ipsec-psk. */
  readonly ipsecPsk: boolean;
}

export interface EndpointOffer {
  /** The preferred backend that could be offered; undefined when none could. */
  readonly backend: Backend | undefined;
  readonly backendConfig: EndpointBackendConfig;
  /** Asked-for backends left out, each with why (reported as Warnings). */
  readonly leftOut: ReadonlyArray<{ readonly backend: Backend; readonly reason: string }>;
}

/** What the Endpoint offers: every asked-for backend this gateway can run, in the order given. */
export function endpointOffer(i: OfferInput): EndpointOffer {
  const config: Record<string, unknown> = {};
  const leftOut: Array<{ backend: Backend; reason: string }> = [];
  for (const b of i.backends) {
    if (b === 'wireguard') {
      if (i.wireguard) config['wireguard'] = { publicKey: i.wireguard.publicKey, port: i.wireguard.port };
      else leftOut.push({ backend: b, reason: 'wireguard is not offered: the key Secret has no wireguard-private-key' });
    } else if (b === 'ipsec') {
      if (i.ipsecPsk) config['ipsec'] = { ikeID: i.clusterId, port: IKE_PORT, natTPort: NATT_PORT };
      else leftOut.push({ backend: b, reason: 'ipsec is not offered: the key Secret has no ipsec-psk' });
    } else {
      config['vxlan'] = { port: VXLAN_PORT };
    }
  }
  const offered = i.backends.filter((b) => config[b] !== undefined);
  return { backend: offered[0], backendConfig: config as EndpointBackendConfig, leftOut };
}

/** The default of `--forward-udp-ports`: WireGuard's port, IKE and NAT-T, and the VXLAN port when VXLAN is offered. */
export function defaultForwardUdpPorts(backends: readonly Backend[], wireguardPort: number): number[] {
  return [wireguardPort, IKE_PORT, NATT_PORT, ...(backends.includes('vxlan') ? [VXLAN_PORT] : [])];
}
