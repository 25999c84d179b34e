import { formatIP, isMaskedCIDR, parseCIDR, parseIP } from '@strait/api';

/**
 * Overlay addressing of `vx-strait`: every node derives its overlay address from its node IP, so no
 * allocation or coordination is needed — the overlay network's prefix plus the node IP's host bits
 * (`240.0.0.0/8` and node `192.168.1.12` → `240.168.1.12`). Two nodes whose IPs share those bits
 * would collide: pick a prefix at most as long as the node network's.
 */

/** Config validator: an IPv4 network between /8 and /24, host bits clear. */
export function overlayCidrProblem(v: string): string | undefined {
  const p = parseCIDR(v);
  if (!p || p.address.family !== 4) return 'must be an IPv4 CIDR such as 240.0.0.0/8';
  if (p.prefixLength < 8 || p.prefixLength > 24) return 'must be between /8 and /24';
  if (!isMaskedCIDR(v)) return 'has host bits set';
  return undefined;
}

/** The overlay address of the node with IPv4 address `nodeIp` (throws on a non-IPv4 node IP). */
export function overlayAddress(overlayCidr: string, nodeIp: string): string {
  const p = parseCIDR(overlayCidr);
  const ip = parseIP(nodeIp);
  if (!p || p.address.family !== 4) throw new Error(`overlay CIDR ${JSON.stringify(overlayCidr)} is not an IPv4 CIDR`);
  if (!ip || ip.family !== 4) throw new Error(`node IP ${JSON.stringify(nodeIp)} is not an IPv4 address`);
  const host = (1n << BigInt(32 - p.prefixLength)) - 1n;
  return formatIP({ family: 4, value: (p.address.value & ~host & 0xffffffffn) | (ip.value & host) });
}

export function overlayPrefixLength(overlayCidr: string): number {
  return parseCIDR(overlayCidr)?.prefixLength ?? 8;
}
