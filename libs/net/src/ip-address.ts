import { isIPv4, isIPv6 } from 'node:net';

/**
 * IP addresses and prefixes in canonical text form, so that desired state written by people and
 * what `ip -j` / `nft -j` print compare equal: IPv4 dotted quad, IPv6 RFC 5952 (lower case,
 * longest zero run compressed), prefixes with host bits cleared.
 */

export type Family = 4 | 6;

export interface ParsedIp {
  readonly family: Family;
  readonly value: bigint;
}

export function parseIp(text: string): ParsedIp | undefined {
  if (isIPv4(text)) {
    const parts = text.split('.').map(Number);
    let v = 0n;
    for (const p of parts) v = (v << 8n) | BigInt(p);
    return { family: 4, value: v };
  }
  if (isIPv6(text)) {
    let t = text.toLowerCase();
    const pct = t.indexOf('%');
    if (pct >= 0) return undefined; // zone ids are not addresses Strait programs
    // Embedded IPv4 tail (::ffff:1.2.3.4).
    const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
    if (v4tail?.[1]) {
      const v4 = parseIp(v4tail[1]);
      if (!v4) return undefined;
      const hi = Number(v4.value >> 16n).toString(16);
      const lo = Number(v4.value & 0xffffn).toString(16);
      t = `${t.slice(0, t.length - v4tail[1].length)}${hi}:${lo}`;
    }
    const [head = '', tail] = t.split('::');
    const h = head === '' ? [] : head.split(':');
    const tl = tail === undefined ? [] : tail === '' ? [] : tail.split(':');
    const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - tl.length).fill('0'), ...tl];
    if (groups.length !== 8) return undefined;
    let v = 0n;
    for (const g of groups) v = (v << 16n) | BigInt(parseInt(g, 16));
    return { family: 6, value: v };
  }
  return undefined;
}

export function formatIp(family: Family, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

export function bits(family: Family): number {
  return family === 4 ? 32 : 128;
}

const V4_RE = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** Canonical address text, or undefined when `text` is not an IP address. */
export function canonicalIp(text: string): string | undefined {
  // Fast path: a dotted quad is already canonical (10 000-element maps are checked per apply).
  const m = V4_RE.exec(text);
  if (m) return Number(m[1]) <= 255 && Number(m[2]) <= 255 && Number(m[3]) <= 255 && Number(m[4]) <= 255 ? text : undefined;
  const p = parseIp(text);
  return p ? formatIp(p.family, p.value) : undefined;
}

export function ipFamily(text: string): Family | undefined {
  const slash = text.indexOf('/');
  return parseIp(slash >= 0 ? text.slice(0, slash) : text)?.family;
}

export interface ParsedCidr {
  readonly family: Family;
  /** network address (host bits cleared) */
  readonly network: bigint;
  /** address as written (host bits kept), for interface addresses like 10.0.0.1/24 */
  readonly address: bigint;
  readonly prefixLength: number;
}

/** Parses `a.b.c.d/n`, `x::/n`; a bare address is a host prefix (/32, /128). */
export function parseCidr(text: string): ParsedCidr | undefined {
  const slash = text.indexOf('/');
  const addr = parseIp(slash >= 0 ? text.slice(0, slash) : text);
  if (!addr) return undefined;
  const max = bits(addr.family);
  let len = max;
  if (slash >= 0) {
    const l = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(l)) return undefined;
    len = Number(l);
    if (len > max) return undefined;
  }
  const mask = len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(max - len);
  return { family: addr.family, network: addr.value & mask, address: addr.value, prefixLength: len };
}

/** Canonical prefix text `10.1.0.0/16` (host bits cleared), or undefined when invalid. */
export function canonicalCidr(text: string): string | undefined {
  const c = parseCidr(text);
  return c ? `${formatIp(c.family, c.network)}/${c.prefixLength}` : undefined;
}

/** Canonical interface address text `10.1.0.1/24` (host bits kept). */
export function canonicalIfAddress(text: string): string | undefined {
  const c = parseCidr(text);
  return c ? `${formatIp(c.family, c.address)}/${c.prefixLength}` : undefined;
}

/** `default`, `0.0.0.0/0`, `10.0.0.1` (host) → canonical prefix of the given family. */
export function canonicalRouteDst(text: string, family?: Family): string | undefined {
  if (text === 'default' || text === 'all') {
    if (family === 6) return '::/0';
    return '0.0.0.0/0';
  }
  return canonicalCidr(text);
}

/** Interval [first, last] of a prefix or range, as bigints. */
export function intervalOf(text: string): { family: Family; first: bigint; last: bigint } | undefined {
  const dash = text.indexOf('-');
  if (dash > 0) {
    const a = parseIp(text.slice(0, dash).trim());
    const b = parseIp(text.slice(dash + 1).trim());
    if (!a || !b || a.family !== b.family || b.value < a.value) return undefined;
    return { family: a.family, first: a.value, last: b.value };
  }
  const c = parseCidr(text);
  if (!c) return undefined;
  const host = BigInt(bits(c.family) - c.prefixLength);
  return { family: c.family, first: c.network, last: c.network + (1n << host) - 1n };
}

/**
 * Canonical text of an interval element as nft prints it: a single address, `net/len` when the
 * interval is exactly a prefix, else `first-last`.
 */
export function canonicalInterval(text: string): string | undefined {
  const iv = intervalOf(text);
  if (!iv) return undefined;
  if (iv.first === iv.last) return formatIp(iv.family, iv.first);
  const size = iv.last - iv.first + 1n;
  const max = bits(iv.family);
  if ((size & (size - 1n)) === 0n && iv.first % size === 0n) {
    const hostBits = size.toString(2).length - 1;
    return `${formatIp(iv.family, iv.first)}/${max - hostBits}`;
  }
  return `${formatIp(iv.family, iv.first)}-${formatIp(iv.family, iv.last)}`;
}
