import { canonicalInterval, canonicalIp } from './ip-address.ts';
import { NetSpecError, checkIfName, checkMac } from './validate.ts';

/**
 * Typed nftables set/map elements. Every element has ONE canonical text that is at the same time
 * valid nft syntax (what Strait writes) and what Strait derives from `nft -j` (what it reads), so
 * desired and current elements compare as strings: `10.0.0.1`, `10.0.0.0/8`, `10.0.0.1-10.0.0.9`,
 * `443`, `6` (tcp), `"strait.host"`, `02:00:00:00:00:0a`, `accept`, `jump to_peer_b`,
 * concatenations `10.0.0.1 . 443`.
 */

export const NFT_DATA_TYPES = ['ipv4_addr', 'ipv6_addr', 'ether_addr', 'inet_service', 'inet_proto', 'mark', 'ifname'] as const;
export type NftDataType = (typeof NFT_DATA_TYPES)[number];
export type NftValueType = NftDataType | 'verdict';

/** One part of an element as given in desired state. */
export type NftScalar = string | number;
/** An element key: a scalar, or the parts of a concatenation. */
export type NftKey = NftScalar | readonly NftScalar[];

const PROTO_NUMBERS: Record<string, number> = {
  icmp: 1,
  igmp: 2,
  ipip: 4,
  tcp: 6,
  udp: 17,
  ipv6: 41,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  icmpv6: 58,
  sctp: 132,
  udplite: 136,
};

const NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

export function checkNftName(field: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new NetSpecError(field, `${JSON.stringify(name)} is not a valid nftables name (a letter, then letters, digits, "_")`);
  }
  return name;
}

function fail(field: string, v: unknown, what: string): never {
  throw new NetSpecError(field, `${JSON.stringify(v)} is not ${what}`);
}

function integer(field: string, v: NftScalar, min: number, max: number, what: string): number {
  const n = typeof v === 'number' ? v : /^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) fail(field, v, what);
  return n;
}

/** Canonical text of one scalar of type `type` from desired state. */
export function canonicalScalar(field: string, type: NftValueType, v: NftScalar, interval: boolean): string {
  switch (type) {
    case 'ipv4_addr':
    case 'ipv6_addr': {
      const fam = type === 'ipv4_addr' ? 4 : 6;
      if (typeof v !== 'string') fail(field, v, `an IPv${fam} address`);
      const text = interval ? canonicalInterval(v) : canonicalIp(v);
      if (!text || (fam === 4 ? text.includes(':') : !text.includes(':'))) {
        fail(field, v, interval ? `an IPv${fam} address, prefix or range` : `an IPv${fam} address (prefixes need flags interval)`);
      }
      return text;
    }
    case 'inet_service': {
      if (interval && typeof v === 'string' && v.includes('-')) {
        const [a = '', b = ''] = v.split('-');
        const lo = integer(field, a.trim(), 0, 65535, 'a port range');
        const hi = integer(field, b.trim(), 0, 65535, 'a port range');
        if (hi < lo) fail(field, v, 'a port range');
        return lo === hi ? String(lo) : `${lo}-${hi}`;
      }
      return String(integer(field, v, 0, 65535, 'a port (0-65535)'));
    }
    case 'inet_proto': {
      if (typeof v === 'string' && PROTO_NUMBERS[v.toLowerCase()] !== undefined) return String(PROTO_NUMBERS[v.toLowerCase()]);
      return String(integer(field, v, 0, 255, 'an IP protocol (number or tcp, udp, ...)'));
    }
    case 'mark':
      return String(integer(field, v, 0, 0xffffffff, 'a mark (0-0xffffffff)'));
    case 'ifname': {
      if (typeof v !== 'string') fail(field, v, 'an interface name');
      return `"${checkIfName(field, v)}"`;
    }
    case 'ether_addr':
      return checkMac(field, v);
    case 'verdict': {
      if (typeof v !== 'string') fail(field, v, 'a verdict');
      const m = /^(accept|drop|continue|return)$|^(jump|goto) ([A-Za-z][A-Za-z0-9_]{0,62})$/.exec(v.trim());
      if (!m) fail(field, v, 'a verdict (accept, drop, continue, return, jump <chain>, goto <chain>)');
      return m[1] ?? `${m[2]} ${m[3]}`;
    }
  }
}

/** Canonical text of a key (concatenations joined with " . "). */
export function canonicalKey(field: string, types: readonly NftDataType[], key: NftKey, interval: boolean): string {
  const parts = Array.isArray(key) ? (key as readonly NftScalar[]) : [key as NftScalar];
  if (parts.length !== types.length) {
    throw new NetSpecError(field, `has ${parts.length} part(s) but the type ${types.join(' . ')} has ${types.length}`);
  }
  return parts.map((p, i) => canonicalScalar(types.length > 1 ? `${field}[${i}]` : field, types[i] as NftDataType, p, interval)).join(' . ');
}

/** Raised when `nft -j` prints an element Strait cannot interpret. */
export class NftElementFormatError extends Error {}

function bad(what: string, v: unknown): never {
  throw new NftElementFormatError(`${what}: ${JSON.stringify(v)?.slice(0, 80)}`);
}

/** Canonical text of one scalar as printed by `nft -j`. */
export function scalarFromJson(type: NftValueType, v: unknown): string {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if ('prefix' in o) {
      const p = o['prefix'] as { addr?: unknown; len?: unknown } | null;
      if (typeof p?.addr !== 'string' || typeof p.len !== 'number') bad('bad prefix', v);
      const t = canonicalInterval(`${p.addr}/${p.len}`);
      if (!t) bad('bad prefix', v);
      return t;
    }
    if ('range' in o) {
      const r = o['range'];
      if (!Array.isArray(r) || r.length !== 2) bad('bad range', v);
      if (type === 'ipv4_addr' || type === 'ipv6_addr') {
        const t = canonicalInterval(`${String(r[0])}-${String(r[1])}`);
        if (!t) bad('bad range', v);
        return t;
      }
      const a = scalarFromJson(type, r[0]);
      const b = scalarFromJson(type, r[1]);
      return a === b ? a : `${a}-${b}`;
    }
    if (type === 'verdict') {
      for (const k of ['accept', 'drop', 'continue', 'return']) if (k in o) return k;
      for (const k of ['jump', 'goto']) {
        const t = (o[k] as { target?: unknown } | undefined)?.target;
        if (typeof t === 'string') return `${k} ${t}`;
      }
    }
    bad(`unexpected ${type} value`, v);
  }
  if (typeof v === 'number') {
    if (type === 'ifname' || type === 'ipv4_addr' || type === 'ipv6_addr' || type === 'ether_addr') bad(`unexpected ${type} value`, v);
    return String(v);
  }
  if (typeof v !== 'string') bad(`unexpected ${type} value`, v);
  switch (type) {
    case 'ipv4_addr':
    case 'ipv6_addr':
      return canonicalIp(v) ?? bad(`unexpected ${type} value`, v);
    case 'inet_proto': {
      const n = PROTO_NUMBERS[v.toLowerCase()];
      if (n !== undefined) return String(n);
      if (/^\d+$/.test(v)) return v;
      return bad('unknown protocol name', v);
    }
    case 'ifname':
      return `"${v}"`;
    case 'ether_addr':
      return v.toLowerCase();
    case 'verdict':
      return v;
    default:
      if (/^(0x[0-9a-f]+|\d+)$/i.test(v)) return String(Number(v));
      return bad(`unexpected ${type} value`, v);
  }
}

/** Canonical key text from `nft -j` (a scalar, or `{"concat": [...]}`). */
export function keyFromJson(types: readonly NftDataType[], v: unknown): string {
  const unwrapped = unwrapElem(v);
  if (types.length > 1) {
    const c = (unwrapped as { concat?: unknown } | null)?.concat;
    if (!Array.isArray(c) || c.length !== types.length) bad('expected a concatenation', v);
    return c.map((p, i) => scalarFromJson(types[i] as NftDataType, p)).join(' . ');
  }
  return scalarFromJson(types[0] as NftDataType, unwrapped);
}

/** `{"elem": {"val": X, "timeout": ...}}` → X */
export function unwrapElem(v: unknown): unknown {
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && 'elem' in v) {
    const e = (v as { elem: unknown }).elem;
    if (typeof e === 'object' && e !== null && 'val' in e) return (e as { val: unknown }).val;
  }
  return v;
}
