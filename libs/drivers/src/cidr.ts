import { isIP } from 'node:net';

/** IPv4/IPv6 prefixes as numbers, for validation and overlap checks. */
export interface Prefix {
  readonly family: 4 | 6;
  /** Network address (host bits cleared). */
  readonly network: bigint;
  readonly length: number;
  /** Canonical text: `10.1.0.0/16`, `fd00::/64`. */
  readonly text: string;
}

function ipToBigint(ip: string): { family: 4 | 6; value: bigint } | undefined {
  const family = isIP(ip);
  if (family === 4) {
    return { family, value: ip.split('.').reduce((v, p) => (v << 8n) | BigInt(Number(p)), 0n) };
  }
  if (family === 6) {
    let text = ip.toLowerCase();
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
    if (v4?.[1]) {
      const n = ipToBigint(v4[1])!.value;
      text = `${text.slice(0, -v4[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
    }
    const [head = '', tail] = text.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    return { family, value: groups.reduce((v, g) => (v << 16n) | BigInt(parseInt(g, 16)), 0n) };
  }
  return undefined;
}

function bigintToIp(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt((7 - i) * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (length ≥ 2) of zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function parseIpAddress(ip: string): { family: 4 | 6; value: bigint } | undefined {
  return typeof ip === 'string' ? ipToBigint(ip) : undefined;
}

export function canonicalIp(ip: string): string | undefined {
  const p = parseIpAddress(ip);
  return p ? bigintToIp(p.family, p.value) : undefined;
}

/** Parses `addr/len` (a bare address is a host prefix). Host bits must be zero unless `lenient`. */
export function parsePrefix(text: string, lenient = false): Prefix | undefined {
  if (typeof text !== 'string') return undefined;
  const [addr = '', len, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const ip = ipToBigint(addr);
  if (!ip) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  if (len !== undefined && !/^\d{1,3}$/.test(len)) return undefined;
  const length = len === undefined ? max : Number(len);
  if (length > max) return undefined;
  const hostBits = BigInt(max - length);
  const network = (ip.value >> hostBits) << hostBits;
  if (network !== ip.value && !lenient) return undefined;
  return { family: ip.family, network, length, text: `${bigintToIp(ip.family, network)}/${length}` };
}

export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  if (a.family !== b.family) return false;
  const max = a.family === 4 ? 32 : 128;
  const shortest = BigInt(max - Math.min(a.length, b.length));
  return a.network >> shortest === b.network >> shortest;
}

export function prefixContains(prefix: Prefix, ip: string): boolean {
  const p = parseIpAddress(ip);
  if (!p || p.family !== prefix.family) return false;
  const hostBits = BigInt((p.family === 4 ? 32 : 128) - prefix.length);
  return p.value >> hostBits === prefix.network >> hostBits;
}
