/**
 * IP address and CIDR parsing with the same rules as the Kubernetes CEL IP/CIDR library
 * (`isIP`, `ip.isCanonical`, `isCIDR`, `cidr(x).containsIP(y)`), which kube-apiserver applies to
 * Strait's custom resources. The runtime validators use these functions so that an object
 * accepted here is accepted by the API server and vice versa.
 *
 * Rules (Go `net/netip` plus the Kubernetes restrictions):
 *  - IPv4: four decimal octets 0-255, no leading zeros (`010.0.0.1` is rejected).
 *  - IPv6: RFC 4291 text form, at most one `::`, optional trailing dotted IPv4;
 *    zones (`fe80::1%eth0`) and IPv4-mapped addresses (`::ffff:1.2.3.4`) are rejected.
 *  - CIDR: `<ip>/<bits>`, bits in decimal without leading zeros, 0-32 or 0-128.
 */

export type IPFamily = 4 | 6;

export interface IPAddress {
  readonly family: IPFamily;
  /** The address as an unsigned integer (32 or 128 bits). */
  readonly value: bigint;
}

export interface IPPrefix {
  /** The address as written (host bits may be set; see {@link isMaskedCIDR}). */
  readonly address: IPAddress;
  readonly prefixLength: number;
}

const V4_BITS = 32;
const V6_BITS = 128;

function bitsOf(family: IPFamily): number {
  return family === 4 ? V4_BITS : V6_BITS;
}

function parseIPv4Value(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part)) return undefined;
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIPv6Value(text: string): bigint | undefined {
  if (text.includes('%')) return undefined; // zones are not allowed
  let ipv4Tail: bigint | undefined;
  let body = text;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.indexOf('.', lastColon) > lastColon) {
    ipv4Tail = parseIPv4Value(text.slice(lastColon + 1));
    if (ipv4Tail === undefined) return undefined;
    // Keep the colon before the dotted part so that "::1.2.3.4" stays "::" + tail.
    body = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const groups = s.split(':');
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0] ?? '');
    const tail = parseGroups(halves[1] ?? '');
    if (!head || !tail) return undefined;
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    const all = parseGroups(body);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  if (ipv4Tail !== undefined) value = (value & ~0xffffffffn) | ipv4Tail;
  return value;
}

const V4_MAPPED_PREFIX = 0xffffn << 32n;

/** Parses an IP address; undefined when it is not valid for Kubernetes (see module comment). */
export function parseIP(text: string): IPAddress | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) return undefined;
  const dot = text.indexOf('.');
  const colon = text.indexOf(':');
  if (colon < 0) {
    if (dot < 0) return undefined;
    const value = parseIPv4Value(text);
    return value === undefined ? undefined : { family: 4, value };
  }
  const value = parseIPv6Value(text);
  if (value === undefined) return undefined;
  if (value >> 32n === V4_MAPPED_PREFIX >> 32n) return undefined; // IPv4-mapped IPv6
  return { family: 6, value };
}

export function isIP(text: string): boolean {
  return parseIP(text) !== undefined;
}

/** Canonical text form (RFC 5952, as Go's netip prints it). */
export function formatIP(address: IPAddress): string {
  if (address.family === 4) {
    const v = address.value;
    return [24n, 16n, 8n, 0n].map((shift) => String((v >> shift) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((address.value >> BigInt(i * 16)) & 0xffffn));
  // Longest run (length >= 2) of zero groups; the first one wins a tie.
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** True when `text` is a valid IP written in its one canonical form (Kubernetes `ip.isCanonical`). */
export function isCanonicalIP(text: string): boolean {
  const address = parseIP(text);
  return address !== undefined && formatIP(address) === text;
}

/** Parses `<ip>/<bits>`; undefined when it is not valid for Kubernetes (see module comment). */
export function parseCIDR(text: string): IPPrefix | undefined {
  if (typeof text !== 'string') return undefined;
  const slash = text.lastIndexOf('/');
  if (slash < 0) return undefined;
  const address = parseIP(text.slice(0, slash));
  if (!address) return undefined;
  const bits = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(bits)) return undefined;
  const prefixLength = Number(bits);
  if (prefixLength > bitsOf(address.family)) return undefined;
  return { address, prefixLength };
}

export function isCIDR(text: string): boolean {
  return parseCIDR(text) !== undefined;
}

function hostMask(family: IPFamily, prefixLength: number): bigint {
  return (1n << BigInt(bitsOf(family) - prefixLength)) - 1n;
}

/** The network of a prefix: host bits cleared (Kubernetes `cidr(x).masked()`). */
export function maskedPrefix(prefix: IPPrefix): IPPrefix {
  const { family, value } = prefix.address;
  return { address: { family, value: value & ~hostMask(family, prefix.prefixLength) }, prefixLength: prefix.prefixLength };
}

export function formatCIDR(prefix: IPPrefix): string {
  return `${formatIP(prefix.address)}/${prefix.prefixLength}`;
}

/** True when `text` is a valid CIDR with no host bits set (`cidr(x) == cidr(x).masked()`). */
export function isMaskedCIDR(text: string): boolean {
  const prefix = parseCIDR(text);
  return prefix !== undefined && maskedPrefix(prefix).address.value === prefix.address.value;
}

function toPrefix(x: string | IPPrefix): IPPrefix | undefined {
  return typeof x === 'string' ? parseCIDR(x) : x;
}

function toAddress(x: string | IPAddress): IPAddress | undefined {
  return typeof x === 'string' ? parseIP(x) : x;
}

/** `cidr(c).containsIP(ip)`: false for invalid input or a family mismatch. */
export function cidrContainsIP(cidr: string | IPPrefix, ip: string | IPAddress): boolean {
  const prefix = toPrefix(cidr);
  const address = toAddress(ip);
  if (!prefix || !address || prefix.address.family !== address.family) return false;
  const mask = ~hostMask(address.family, prefix.prefixLength);
  return (prefix.address.value & mask) === (address.value & mask);
}

/** `cidr(a).containsCIDR(b)`: every address of b lies in a. */
export function cidrContainsCIDR(outer: string | IPPrefix, inner: string | IPPrefix): boolean {
  const a = toPrefix(outer);
  const b = toPrefix(inner);
  if (!a || !b || a.address.family !== b.address.family || b.prefixLength < a.prefixLength) return false;
  return cidrContainsIP(a, b.address);
}

/** True when the two CIDRs share at least one address (false for invalid input or mixed families). */
export function cidrsOverlap(a: string | IPPrefix, b: string | IPPrefix): boolean {
  return cidrContainsCIDR(a, b) || cidrContainsCIDR(b, a);
}
