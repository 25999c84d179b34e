import { NetOutputError } from './exec.ts';

/**
 * Reading tool output defensively: `ip -j` and `nft -j` are external programs and their JSON is
 * checked field by field. A wrong shape throws {@link NetOutputError} naming the command, the
 * namespace and the path of the bad field (`[3].ifname`).
 */
export class OutputReader {
  readonly command: string;
  readonly netns: string | undefined;

  constructor(command: string, netns: string | undefined) {
    this.command = command;
    this.netns = netns;
  }

  fail(path: string, problem: string): never {
    throw new NetOutputError(this.command, this.netns, `unexpected output: ${path || 'top level'} ${problem}`);
  }

  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `is ${describe(v)}, expected an array`);
    return v;
  }

  object(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `is ${describe(v)}, expected an object`);
    return v as Record<string, unknown>;
  }

  string(o: Record<string, unknown>, key: string, path: string): string {
    const v = o[key];
    if (typeof v !== 'string') this.fail(`${path}.${key}`, `is ${describe(v)}, expected a string`);
    return v;
  }

  optString(o: Record<string, unknown>, key: string, path: string): string | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.fail(`${path}.${key}`, `is ${describe(v)}, expected a string`);
    return v;
  }

  number(o: Record<string, unknown>, key: string, path: string): number {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`${path}.${key}`, `is ${describe(v)}, expected a number`);
    return v;
  }

  optNumber(o: Record<string, unknown>, key: string, path: string): number | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`${path}.${key}`, `is ${describe(v)}, expected a number`);
    return v;
  }

  /** A number printed either as JSON number or as a decimal/hex string (`"100"`, `"0x10"`). */
  optNumeric(o: Record<string, unknown>, key: string, path: string): number | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v)) return Number(v);
    this.fail(`${path}.${key}`, `is ${describe(v)}, expected a number`);
  }

  stringArray(o: Record<string, unknown>, key: string, path: string): string[] {
    const v = o[key];
    if (v === undefined) return [];
    const a = this.array(v, `${path}.${key}`);
    return a.map((x, i) => {
      if (typeof x !== 'string') this.fail(`${path}.${key}[${i}]`, `is ${describe(x)}, expected a string`);
      return x;
    });
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  const t = typeof v;
  if (t === 'object') return 'an object';
  const s = JSON.stringify(v);
  return `${t} ${s.length > 40 ? `${s.slice(0, 40)}...` : s}`;
}

/** Bad desired state: names the field, changes nothing. */
export class NetSpecError extends Error {
  override readonly name = 'NetSpecError';
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.field = field;
  }
}

const IFNAME_RE = /^[A-Za-z0-9_.:+-]{1,15}$/;

export function checkIfName(field: string, name: unknown): string {
  if (typeof name !== 'string' || !IFNAME_RE.test(name) || name === '.' || name === '..') {
    throw new NetSpecError(
      field,
      `${JSON.stringify(name)} is not a valid interface name (1-15 characters: letters, digits, "_", ".", ":", "+", "-")`,
    );
  }
  return name;
}

const NETNS_RE = /^[A-Za-z0-9_.-]{1,64}$/;

export function checkNetnsName(field: string, name: unknown): string {
  if (typeof name !== 'string' || !NETNS_RE.test(name) || name === '.' || name === '..') {
    throw new NetSpecError(field, `${JSON.stringify(name)} is not a valid namespace name (letters, digits, "_", ".", "-")`);
  }
  return name;
}

export function checkInt(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new NetSpecError(field, `${JSON.stringify(v)} is not an integer in ${min}..${max}`);
  }
  return v;
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function checkMac(field: string, v: unknown): string {
  if (typeof v !== 'string' || !MAC_RE.test(v.toLowerCase())) {
    throw new NetSpecError(field, `${JSON.stringify(v)} is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  }
  return v.toLowerCase();
}
