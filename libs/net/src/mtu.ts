import { NetSpecError, checkInt } from './validate.ts';

/**
 * Tunnel MTU = underlay MTU − encapsulation overhead; TCP MSS = MTU − IP and TCP headers.
 *
 * Overheads in bytes (outer headers added to every inner packet):
 *
 * | driver    | outer IPv4                                   | outer IPv6 |
 * |-----------|----------------------------------------------|------------|
 * | WireGuard | 20 IP + 8 UDP + 16 WG header + 16 tag = 60    | 80         |
 * | VXLAN     | 20 IP + 8 UDP + 8 VXLAN + 14 inner Ethernet = 50 | 70      |
 * | IPsec ESP | see below                                     |            |
 *
 * IPsec ESP in tunnel mode, with NAT traversal (UDP 4500, which strongSwan's kernel-libipsec and
 * most real deployments use), AES-GCM-16 (128-bit ICV) — strongSwan's default proposal family:
 *   20 outer IPv4 + 8 UDP + 8 ESP header (SPI, sequence) + 8 IV + 16 ICV + 2 trailer (pad length,
 *   next header) + up to 3 padding (4-byte alignment) = 65   (IPv6 outer: 85).
 * With AES-CBC + HMAC-SHA2-256-128 instead: IV 16, ICV 16, padding up to 15 (16-byte blocks):
 *   20 + 8 + 8 + 16 + 16 + 2 + 15 = 85   (IPv6 outer: 105).
 * Without NAT-T subtract 8. Strait uses the worst case of the configured suite.
 *
 * The default for "WireGuard" is the IPv6-safe 80, so one value works whatever family the
 * underlay turns out to be (the same choice wg-quick makes).
 */

export type Driver = 'wireguard' | 'vxlan' | 'ipsec';
export type UnderlayFamily = 4 | 6;
export type IpsecSuite = 'aes-gcm' | 'aes-cbc-sha256';

export interface OverheadOptions {
  /** Outer IP family; default 6 for WireGuard (IPv6-safe), 4 otherwise. */
  readonly underlay?: UnderlayFamily;
  /** IPsec only: cipher suite (default aes-cbc-sha256: the larger, safe for either). */
  readonly ipsecSuite?: IpsecSuite;
  /** IPsec only: UDP encapsulation for NAT traversal (default true). */
  readonly natTraversal?: boolean;
}

const OUTER_IP: Record<UnderlayFamily, number> = { 4: 20, 6: 40 };
const UDP = 8;

export const WIREGUARD_OVERHEAD = { ipv4: 60, ipv6: 80 } as const;
export const VXLAN_OVERHEAD = { ipv4: 50, ipv6: 70 } as const;
export const IPSEC_OVERHEAD = {
  'aes-gcm': { ipv4: 65, ipv6: 85 },
  'aes-cbc-sha256': { ipv4: 85, ipv6: 105 },
} as const;

/** Bytes of encapsulation added by `driver`. */
export function driverOverhead(driver: Driver, opts: OverheadOptions = {}): number {
  switch (driver) {
    case 'wireguard': {
      const fam = opts.underlay ?? 6;
      return OUTER_IP[fam] + UDP + 16 + 16;
    }
    case 'vxlan': {
      const fam = opts.underlay ?? 4;
      return OUTER_IP[fam] + UDP + 8 + 14;
    }
    case 'ipsec': {
      const fam = opts.underlay ?? 4;
      const suite = opts.ipsecSuite ?? 'aes-cbc-sha256';
      const natT = opts.natTraversal ?? true;
      const esp = 8;
      const trailer = 2;
      const { iv, icv, maxPad } = suite === 'aes-gcm' ? { iv: 8, icv: 16, maxPad: 3 } : { iv: 16, icv: 16, maxPad: 15 };
      return OUTER_IP[fam] + (natT ? UDP : 0) + esp + iv + icv + trailer + maxPad;
    }
    default:
      throw new NetSpecError('driver', `${JSON.stringify(driver)} is not wireguard, vxlan or ipsec`);
  }
}

/** Tunnel MTU for an underlay MTU. */
export function tunnelMtu(underlayMtu: number, driver: Driver, opts: OverheadOptions = {}): number {
  checkInt('underlayMtu', underlayMtu, 576, 65535);
  const mtu = underlayMtu - driverOverhead(driver, opts);
  if (mtu < 1280 && opts.underlay === 6) {
    throw new NetSpecError('underlayMtu', `${underlayMtu} leaves ${mtu} for the tunnel, below IPv6's minimum 1280`);
  }
  return mtu;
}

/** TCP MSS for an MTU: MTU − 40 (IPv4 20 + TCP 20); IPv6 inner traffic: MTU − 60. */
export function mssForMtu(mtu: number, innerFamily: 4 | 6 = 4): number {
  checkInt('mtu', mtu, 68, 65535);
  return mtu - (innerFamily === 4 ? 40 : 60);
}
