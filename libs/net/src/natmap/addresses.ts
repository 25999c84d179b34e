import { formatIp, parseIp, type Family } from '../ip-address.ts';

/**
 * Addresses of NatMapping entries, checked with the same rules as the API server's (no leading zeros,
 * no zones, no IPv4-mapped IPv6) and turned into canonical text, so that equal addresses compare
 * as equal strings and match what nftables prints. IPv4 is parsed without BigInt: a 10 000-entry
 * desired state is recomputed on every change, and this keeps that to a few milliseconds.
 */

export interface NatAddress {
  readonly family: Family;
  /** Canonical text (dotted quad; RFC 5952 for IPv6). */
  readonly text: string;
  /** IPv4 value as an unsigned 32-bit number (0 for IPv6). */
  readonly v4: number;
  /** IPv6 value (0n for IPv4). */
  readonly v6: bigint;
}

export interface NatCidr {
  readonly family: Family;
  /** Canonical `network/len`. */
  readonly text: string;
  readonly prefixLength: number;
  /** Network address (host bits clear) as for {@link NatAddress}. */
  readonly v4: number;
  readonly v6: bigint;
}

/** IPv4 dotted quad → uint32, or -1 (strict: 4 decimal octets 0-255, no leading zeros, nothing else). */
export function parseV4(text: string): number {
  const n = text.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1; // leading zero
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

export function formatV4(v: number): string {
  return `${Math.floor(v / 16777216) % 256}.${Math.floor(v / 65536) % 256}.${Math.floor(v / 256) % 256}.${v % 256}`;
}

const V4_MAPPED_HIGH = 0xffffn;

/** A valid IP address in canonical form, or undefined. */
export function parseNatAddress(text: unknown): NatAddress | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) return undefined;
  if (!text.includes(':')) {
    const v4 = parseV4(text);
    return v4 < 0 ? undefined : { family: 4, text, v4, v6: 0n };
  }
  if (text.includes('%')) return undefined;
  const p = parseIp(text);
  if (!p || p.family !== 6) return undefined;
  if (p.value >> 32n === V4_MAPPED_HIGH) return undefined; // ::ffff:a.b.c.d
  return { family: 6, text: formatIp(6, p.value), v4: 0, v6: p.value };
}

/** Why a CIDR is not acceptable, or the parsed CIDR. Host bits must be clear (as the API server requires). */
export function parseNatCidr(text: unknown): NatCidr | string {
  if (typeof text !== 'string' || text === '') return 'is not a CIDR';
  const slash = text.indexOf('/');
  if (slash < 0) return `${JSON.stringify(text)} is not a CIDR (for example 10.32.0.0/16)`;
  const addr = parseNatAddress(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!addr || !/^(0|[1-9]\d{0,2})$/.test(lenText)) return `${JSON.stringify(text)} is not a valid CIDR`;
  const len = Number(lenText);
  if (len > (addr.family === 4 ? 32 : 128)) return `${JSON.stringify(text)} has a prefix length above ${addr.family === 4 ? 32 : 128}`;
  if (addr.family === 4) {
    const size = 2 ** (32 - len);
    const network = addr.v4 - (addr.v4 % size);
    if (network !== addr.v4) return `${JSON.stringify(text)} has host bits set; write ${formatV4(network)}/${len}`;
    return { family: 4, text: `${addr.text}/${len}`, prefixLength: len, v4: network, v6: 0n };
  }
  const host = BigInt(128 - len);
  const network = (addr.v6 >> host) << host;
  if (network !== addr.v6) return `${JSON.stringify(text)} has host bits set; write ${formatIp(6, network)}/${len}`;
  return { family: 6, text: `${addr.text}/${len}`, prefixLength: len, v4: 0, v6: network };
}

export function cidrContainsAddress(c: NatCidr, a: NatAddress): boolean {
  if (c.family !== a.family) return false;
  if (c.family === 4) {
    const size = 2 ** (32 - c.prefixLength);
    return a.v4 - (a.v4 % size) === c.v4;
  }
  const host = BigInt(128 - c.prefixLength);
  return (a.v6 >> host) << host === c.v6;
}

/** Whether `outer` contains all of `inner` (same family). */
export function cidrContainsCidr(outer: NatCidr, inner: NatCidr): boolean {
  if (outer.family !== inner.family || outer.prefixLength > inner.prefixLength) return false;
  return cidrContainsAddress(outer, { family: inner.family, text: '', v4: inner.v4, v6: inner.v6 });
}

/**
 * The smallest list of CIDRs covering the same addresses as `cidrs` when every pair is nested or
 * disjoint (always true of prefixes): those contained in another are dropped; sorted, deduplicated.
 * The result can go into an nftables interval set, which refuses overlapping elements.
 */
export function outermostCidrs(cidrs: readonly NatCidr[]): NatCidr[] {
  const sorted = [...cidrs].sort((a, b) => a.prefixLength - b.prefixLength || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  const kept: NatCidr[] = [];
  for (const c of sorted) {
    if (!kept.some((k) => cidrContainsCidr(k, c))) kept.push(c);
  }
  return kept.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
}
