/**
 * IPv4 prefix arithmetic for the topology's address plan (the simulated networks are IPv4 only).
 * Addresses are plain numbers (0 .. 2^32-1); prefixes are `{ network, prefix }` with host bits clear.
 */

export interface Ipv4Prefix {
  readonly network: number;
  readonly prefix: number;
}

const DOTTED_RE = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** `10.1.2.3` → number, or undefined when not a dotted quad. */
export function parseIpv4(text: string): number | undefined {
  const m = DOTTED_RE.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((a, o) => a * 256 + o, 0);
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Number of addresses in a prefix of this length. */
export function prefixSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

/**
 * Parses `10.0.0.0/16`. Throws an Error naming `field` when the text is not an IPv4 prefix or has
 * host bits set (the message shows the network it would be).
 */
export function parseIpv4Prefix(field: string, text: unknown): Ipv4Prefix {
  if (typeof text !== 'string') throw new Error(`${field}: ${JSON.stringify(text)} is not an IPv4 prefix (a.b.c.d/n)`);
  const slash = text.indexOf('/');
  const addr = slash > 0 ? parseIpv4(text.slice(0, slash)) : undefined;
  const lenText = slash > 0 ? text.slice(slash + 1) : '';
  if (addr === undefined || !/^(0|[1-9]\d?)$/.test(lenText) || Number(lenText) > 32) {
    throw new Error(`${field}: ${JSON.stringify(text)} is not an IPv4 prefix (a.b.c.d/n)`);
  }
  const prefix = Number(lenText);
  const size = prefixSize(prefix);
  if (addr % size !== 0) {
    throw new Error(`${field}: ${text} has host bits set (the network would be ${formatIpv4(addr - (addr % size))}/${prefix})`);
  }
  return { network: addr, prefix };
}

export function formatPrefix(p: Ipv4Prefix): string {
  return `${formatIpv4(p.network)}/${p.prefix}`;
}

/** The `index`-th sub-prefix of length `subPrefix` inside `p` (index from 0). */
export function subnet(p: Ipv4Prefix, subPrefix: number, index: number): Ipv4Prefix {
  if (subPrefix < p.prefix || subPrefix > 32) throw new RangeError(`/${subPrefix} is not inside /${p.prefix}`);
  const count = 2 ** (subPrefix - p.prefix);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`${formatPrefix(p)} has ${count} subnets of /${subPrefix}; index ${index} is out of range`);
  }
  return { network: p.network + index * prefixSize(subPrefix), prefix: subPrefix };
}

/** How many sub-prefixes of length `subPrefix` fit in `p` (0 when `subPrefix` is shorter). */
export function subnetCount(p: Ipv4Prefix, subPrefix: number): number {
  return subPrefix < p.prefix ? 0 : 2 ** (subPrefix - p.prefix);
}

/** The address `offset` places after the network address (offset 1 = the first host). */
export function hostAt(p: Ipv4Prefix, offset: number): number {
  if (!Number.isInteger(offset) || offset < 0 || offset >= prefixSize(p.prefix)) {
    throw new RangeError(`offset ${offset} is outside ${formatPrefix(p)}`);
  }
  return p.network + offset;
}

/** Usable host addresses (network and broadcast excluded; /31 and /32 have none here). */
export function usableHosts(p: Ipv4Prefix): number {
  return Math.max(prefixSize(p.prefix) - 2, 0);
}

export function overlaps(a: Ipv4Prefix, b: Ipv4Prefix): boolean {
  const aEnd = a.network + prefixSize(a.prefix);
  const bEnd = b.network + prefixSize(b.prefix);
  return a.network < bEnd && b.network < aEnd;
}

export function contains(p: Ipv4Prefix, addr: number): boolean {
  return addr >= p.network && addr < p.network + prefixSize(p.prefix);
}
