import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';

/**
 * A small typed configuration definer for Strait's processes.
 *
 * Every option has a name (the key, camelCase), a type, an optional default, an environment variable
 * (`STRAIT_<NAME>`, e.g. `STRAIT_CLUSTER_ID`) and a flag (`--cluster-id=value` or `--cluster-id value`).
 * Flags win over environment variables, which win over defaults. Options marked `secret` are never
 * echoed (not in errors, not in usage, not in `describeConfig`); with `fromFile` they can also be read
 * from a file (`--nats-password-file=PATH`, `STRAIT_NATS_PASSWORD_FILE`).
 */

export type OptionType = 'string' | 'int' | 'duration' | 'bool' | 'enum' | 'url' | 'path' | 'list' | 'hostport';

export interface HostPort {
  host: string;
  port: number;
}

/** One option. `P` is true when the option always has a value (it has a default or is required). */
export interface Option<T, P extends boolean = boolean> {
  readonly type: OptionType;
  readonly description: string;
  /** Shown in usage: `--flag=PLACEHOLDER`. */
  readonly placeholder: string;
  readonly default: T | undefined;
  readonly required: boolean;
  readonly hasValue: P;
  readonly secret: boolean;
  readonly fromFile: boolean;
  /** Flag name without dashes; derived from the key when absent. */
  readonly flag: string | undefined;
  /** Environment variable; derived from the key when absent. */
  readonly env: string | undefined;
  /** Further environment variables consulted after `env` (e.g. `KUBECONFIG`). */
  readonly envAliases: readonly string[];
  /** Repeated flags accumulate (lists). */
  readonly repeatable: boolean;
  /** Text shown in usage instead of the formatted default (e.g. "in-cluster or $KUBECONFIG"). */
  readonly defaultText: string | undefined;
  /** Parses one raw value; throws InvalidValue with the reason. */
  parse(raw: string): T;
  /** Formats a value for usage and logs. */
  format(value: T): string;
  /** Extra validation; returns the reason when the value is bad. */
  validate(value: T): string | undefined;
}

/** Thrown by parsers: the reason a raw value is bad (the caller adds which flag and which value). */
export class InvalidValue extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidValue';
  }
}

/** A configuration problem: one line naming the flag and (unless secret) the bad value. */
export class ConfigError extends Error {
  readonly flag: string | undefined;
  constructor(message: string, flag?: string) {
    super(message);
    this.name = 'ConfigError';
    this.flag = flag;
  }
}

/** `--help` / `-h` was given: print `formatUsage(...)` and exit 0. */
export class HelpRequested extends Error {
  constructor() {
    super('help requested');
    this.name = 'HelpRequested';
  }
}

type AnyOption = Option<unknown, boolean>;
export type OptionsRecord = Record<string, AnyOption>;

export type OptionValue<O> = O extends Option<infer T, infer P> ? (P extends true ? T : T | undefined) : never;
export type ConfigValues<O extends OptionsRecord> = { -readonly [K in keyof O]: OptionValue<O[K]> };

/** A cross-option check: returns the reason (naming the flags) when the combination is bad. */
export type ConfigCheck<O extends OptionsRecord> = (values: ConfigValues<O>) => string | undefined;

export interface ConfigSpec<O extends OptionsRecord = OptionsRecord> {
  readonly options: O;
  readonly checks: ReadonlyArray<ConfigCheck<O>>;
}

export function defineConfig<O extends OptionsRecord>(options: O, opts: { checks?: ReadonlyArray<ConfigCheck<O>> } = {}): ConfigSpec<O> {
  const flags = new Map<string, string>();
  const envs = new Map<string, string>();
  for (const [key, o] of Object.entries(options)) {
    for (const f of [flagName(key, o), ...(o.fromFile ? [`${flagName(key, o)}-file`] : [])]) {
      if (flags.has(f) || f === 'help') throw new Error(`config: flag --${f} defined twice (${flags.get(f) ?? 'help'} and ${key})`);
      flags.set(f, key);
    }
    const e = envName(key, o);
    if (envs.has(e)) throw new Error(`config: env ${e} defined twice (${envs.get(e)} and ${key})`);
    envs.set(e, key);
  }
  return { options, checks: opts.checks ?? [] };
}

// ---------------------------------------------------------------------------------------------
// names

export function kebab(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

export function flagName(key: string, o: AnyOption): string {
  return o.flag ?? kebab(key);
}

export function envName(key: string, o: AnyOption): string {
  return o.env ?? `STRAIT_${kebab(key).replace(/-/g, '_').toUpperCase()}`;
}

// ---------------------------------------------------------------------------------------------
// builders

interface Base<T> {
  description: string;
  default?: T;
  required?: boolean;
  secret?: boolean;
  fromFile?: boolean;
  flag?: string;
  env?: string;
  envAliases?: readonly string[];
  defaultText?: string;
  validate?: (value: T) => string | undefined;
}

type Presence<B> = B extends { default: unknown } ? true : B extends { required: true } ? true : false;

function make<T, P extends boolean>(
  b: Base<T>,
  type: OptionType,
  placeholder: string,
  parse: (raw: string) => T,
  format: (v: T) => string,
  extra: { default?: T; repeatable?: boolean; hasValue?: boolean } = {},
): Option<T, P> {
  const def = extra.default !== undefined ? extra.default : b.default;
  const validate = b.validate;
  return {
    type,
    description: b.description,
    placeholder,
    default: def,
    required: b.required === true,
    hasValue: (extra.hasValue ?? (def !== undefined || b.required === true)) as P,
    secret: b.secret === true,
    fromFile: b.fromFile === true,
    flag: b.flag,
    env: b.env,
    envAliases: b.envAliases ?? [],
    repeatable: extra.repeatable === true,
    defaultText: b.defaultText,
    parse,
    format,
    validate: (v: T) => (validate ? validate(v) : undefined),
  };
}

function reject(reason: string): never {
  throw new InvalidValue(reason);
}

export interface StringOpts extends Base<string> {
  /** Accept the empty string (default: no). */
  allowEmpty?: boolean;
  pattern?: RegExp;
  /** Reason shown when `pattern` does not match. */
  patternHint?: string;
}

function stringOpt<const B extends StringOpts>(b: B): Option<string, Presence<B>> {
  return make(b, 'string', 'STRING', (raw) => {
    if (raw === '' && !b.allowEmpty) reject('must not be empty');
    if (b.pattern && !b.pattern.test(raw)) reject(b.patternHint ?? `must match ${String(b.pattern)}`);
    return raw;
  }, (v) => v);
}

export interface IntOpts extends Base<number> {
  min?: number;
  max?: number;
}

function intOpt<const B extends IntOpts>(b: B): Option<number, Presence<B>> {
  return make(b, 'int', 'INT', (raw) => {
    if (!/^[+-]?\d+$/.test(raw.trim())) reject('must be an integer');
    const n = Number(raw.trim());
    if (!Number.isSafeInteger(n)) reject('is out of range');
    if (b.min !== undefined && n < b.min) reject(`must be at least ${b.min}`);
    if (b.max !== undefined && n > b.max) reject(`must be at most ${b.max}`);
    return n;
  }, String);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `500ms`, `2s`, `1.5s`, `1m30s`, `2h`, `0` into milliseconds. */
export function parseDuration(raw: string): number {
  const s = raw.trim();
  if (s === '0') return 0;
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(s)) reject('must be a duration such as 500ms, 2s, 1m30s');
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
  return Math.round(total * 1000) / 1000;
}

/** Formats milliseconds the way parseDuration reads them (`1.5s`, `250ms`, `1m30s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${ms / 1000}s`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const rest = ms % 60_000;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${rest ? formatDuration(rest) : ''}`;
}

export interface DurationOpts extends Omit<Base<number>, 'default'> {
  /** Milliseconds, or a duration string such as `2s`. */
  default?: number | string;
  /** Milliseconds. */
  min?: number;
  max?: number;
}

/** A duration; the value is in milliseconds. */
function durationOpt<const B extends DurationOpts>(b: B): Option<number, Presence<B>> {
  const def = typeof b.default === 'string' ? parseDuration(b.default) : b.default;
  return make({ ...b, default: def }, 'duration', 'DURATION', (raw) => {
    const ms = parseDuration(raw);
    if (b.min !== undefined && ms < b.min) reject(`must be at least ${formatDuration(b.min)}`);
    if (b.max !== undefined && ms > b.max) reject(`must be at most ${formatDuration(b.max)}`);
    return ms;
  }, formatDuration);
}

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

/** A boolean (default false). As a flag: `--x`, `--x=false`, `--no-x`. */
function boolOpt(b: Base<boolean>): Option<boolean, true> {
  return make(b, 'bool', 'BOOL', (raw) => {
    const v = raw.trim().toLowerCase();
    if (TRUE.includes(v)) return true;
    if (FALSE.includes(v)) return false;
    return reject('must be true or false');
  }, String, { default: b.default ?? false, hasValue: true });
}

function enumOpt<const V extends readonly string[], const B extends Base<V[number]>>(values: V, b: B): Option<V[number], Presence<B>> {
  return make<V[number], Presence<B>>(b, 'enum', values.join('|'), (raw) => {
    if (!(values as readonly string[]).includes(raw)) reject(`must be one of ${values.join(', ')}`);
    return raw as V[number];
  }, (v) => v);
}

export interface UrlOpts extends Base<string> {
  /** Allowed schemes with the colon, e.g. `['nats:', 'tls:']`. */
  protocols?: readonly string[];
}

function urlOpt<const B extends UrlOpts>(b: B): Option<string, Presence<B>> {
  return make(b, 'url', 'URL', (raw) => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      return reject(`must be a URL${b.protocols ? ` (${b.protocols.map((p) => `${p}//`).join(', ')})` : ''}`);
    }
    if (b.protocols && !b.protocols.includes(u.protocol)) reject(`must use ${b.protocols.map((p) => `${p}//`).join(' or ')}`);
    if (u.username || u.password) reject('must not carry credentials (use the user/password options)');
    return raw;
  }, (v) => v);
}

export interface PathOpts extends Base<string> {
  /** Check at start that the path exists and is a file / directory. */
  mustExist?: 'file' | 'dir';
}

/** A filesystem path, resolved against the working directory. */
function pathOpt<const B extends PathOpts>(b: B): Option<string, Presence<B>> {
  return make(b, 'path', 'PATH', (raw) => {
    if (raw.trim() === '') reject('must not be empty');
    const p = resolve(raw);
    if (b.mustExist) {
      let st;
      try {
        st = statSync(p);
      } catch {
        return reject('does not exist');
      }
      if (b.mustExist === 'file' && !st.isFile()) reject('is not a file');
      if (b.mustExist === 'dir' && !st.isDirectory()) reject('is not a directory');
    }
    return p;
  }, (v) => v);
}

const HOSTNAME = /^(?=.{1,253}$)([a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*$/;

/** Parses `host:port`, `[ipv6]:port` or `:port` (all interfaces). */
export function parseHostPort(raw: string): HostPort {
  const bad = (): never => reject('must be host:port (e.g. 0.0.0.0:9101)');
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(raw.trim());
  if (!m) return bad();
  const host = m[1] ?? (m[2] === '' ? '0.0.0.0' : (m[2] as string));
  if (m[1] !== undefined && isIP(m[1]) !== 6) return bad();
  if (m[1] === undefined && isIP(host) !== 4 && !HOSTNAME.test(host)) return bad();
  const port = Number(m[3]);
  if (port > 65535) reject('port must be 0..65535');
  return { host, port };
}

export function formatHostPort(v: HostPort): string {
  return v.host.includes(':') ? `[${v.host}]:${v.port}` : `${v.host}:${v.port}`;
}

function hostportOpt<const B extends Base<HostPort>>(b: B): Option<HostPort, Presence<B>> {
  return make(b, 'hostport', 'HOST:PORT', parseHostPort, formatHostPort);
}

export interface ListOpts<T> extends Base<T[]> {
  minItems?: number;
}

/** A comma-separated list of `item` values (flags may repeat; items accumulate). Default: empty. */
function listOpt<T, const B extends ListOpts<T>>(item: Option<T, boolean>, b: B): Option<T[], true> {
  return make<T[], true>(b, 'list', `${item.placeholder}[,${item.placeholder}…]`, (raw) => {
    const parts = raw.split(',').map((p) => p.trim()).filter((p) => p !== '');
    const out: T[] = [];
    for (const p of parts) {
      try {
        const v = item.parse(p);
        const why = item.validate(v);
        if (why) reject(why);
        out.push(v);
      } catch (err) {
        if (err instanceof InvalidValue) reject(`item "${p}" ${err.message}`);
        throw err;
      }
    }
    if (b.minItems !== undefined && out.length < b.minItems) reject(`needs at least ${b.minItems} item(s)`);
    return out;
  }, (v) => v.map((x) => item.format(x)).join(','), { default: b.default ?? [], repeatable: true, hasValue: true });
}

/** Option builders. */
export const opt = {
  string: stringOpt,
  int: intOpt,
  duration: durationOpt,
  bool: boolOpt,
  enum: enumOpt,
  url: urlOpt,
  path: pathOpt,
  hostport: hostportOpt,
  list: listOpt,
} as const;

// ---------------------------------------------------------------------------------------------
// validators

/** Kubernetes DNS-1123 label: lower-case alphanumerics and '-', at most 63 characters. */
export function dns1123Label(v: string): string | undefined {
  if (v.length > 63) return 'must be at most 63 characters (DNS-1123 label)';
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v)) return "must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending alphanumeric)";
  return undefined;
}

/** Kubernetes DNS-1123 subdomain (object names such as Leases and Nodes). */
export function dns1123Subdomain(v: string): string | undefined {
  if (v.length > 253) return 'must be at most 253 characters (DNS-1123 subdomain)';
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(v)) {
    return "must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')";
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// parsing

interface Raw {
  value: string;
  /** Where it came from, for messages: `--x`, `--x-file`, `STRAIT_X`, `STRAIT_X_FILE`. */
  source: string;
  kind: 'flag' | 'env';
}

function quote(value: string): string {
  const v = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(v);
}

function readSecretFile(path: string, source: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(resolve(path), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(`${source}: cannot read ${quote(path)} (${code})`, flag);
  }
  const v = text.replace(/\r?\n$/, '');
  if (v === '') throw new ConfigError(`${source}: file ${quote(path)} is empty`, flag);
  return v;
}

/**
 * Parses flags (`argv`, without node and script) and environment into typed values.
 * Throws ConfigError (one line, naming the flag) or HelpRequested.
 */
export function parseConfig<O extends OptionsRecord>(spec: ConfigSpec<O>, argv: readonly string[], env: NodeJS.ProcessEnv | Record<string, string | undefined>): ConfigValues<O> {
  const byFlag = new Map<string, { key: string; file: boolean }>();
  for (const [key, o] of Object.entries(spec.options)) {
    byFlag.set(flagName(key, o), { key, file: false });
    if (o.fromFile) byFlag.set(`${flagName(key, o)}-file`, { key, file: true });
  }

  // 1. flags
  const fromFlags = new Map<string, Raw[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') throw new HelpRequested();
    if (arg === '--') {
      if (i + 1 < argv.length) throw new ConfigError(`unexpected argument ${quote(argv[i + 1] as string)}`);
      break;
    }
    if (!arg.startsWith('--')) throw new ConfigError(arg.startsWith('-') ? `unknown flag ${arg.split('=')[0]} (see --help)` : `unexpected argument ${quote(arg)}`);
    const eq = arg.indexOf('=');
    let name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let inline = eq === -1 ? undefined : arg.slice(eq + 1);
    let entry = byFlag.get(name);
    if (!entry && name.startsWith('no-') && inline === undefined) {
      const pos = byFlag.get(name.slice(3));
      if (pos && spec.options[pos.key]?.type === 'bool' && !pos.file) {
        entry = pos;
        name = name.slice(3);
        inline = 'false';
      }
    }
    if (!entry) throw new ConfigError(`unknown flag --${name} (see --help)`, name);
    const o = spec.options[entry.key] as AnyOption;
    let value: string;
    if (inline !== undefined) value = inline;
    else if (o.type === 'bool' && !entry.file) value = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new ConfigError(`flag --${name} needs a value`, name);
      value = next;
      i++;
    }
    const list = fromFlags.get(entry.key) ?? [];
    const raw: Raw = { value, source: `--${name}`, kind: 'flag' };
    if (entry.file) raw.value = readSecretFile(value, `--${name}`, name);
    // a flag given twice: lists accumulate, scalars take the last one
    fromFlags.set(entry.key, o.repeatable ? [...list, raw] : [raw]);
  }

  // 2. environment, 3. defaults; then parse and validate
  const values: Record<string, unknown> = {};
  for (const [key, o] of Object.entries(spec.options)) {
    const flag = flagName(key, o);
    let raws = fromFlags.get(key);
    if (!raws) {
      const e = envName(key, o);
      const direct = nonEmpty(env[e]);
      const file = o.fromFile ? nonEmpty(env[`${e}_FILE`]) : undefined;
      if (direct !== undefined && file !== undefined) throw new ConfigError(`both ${e} and ${e}_FILE are set; use one`, flag);
      if (direct !== undefined) raws = [{ value: direct, source: e, kind: 'env' }];
      else if (file !== undefined) raws = [{ value: readSecretFile(file, `${e}_FILE`, flag), source: `${e}_FILE`, kind: 'env' }];
      else {
        for (const alias of o.envAliases) {
          const v = nonEmpty(env[alias]);
          if (v !== undefined) {
            raws = [{ value: v, source: alias, kind: 'env' }];
            break;
          }
        }
      }
    }
    if (!raws) {
      if (o.required) {
        throw new ConfigError(`missing required flag --${flag} (or env ${envName(key, o)}${o.fromFile ? `, or --${flag}-file` : ''})`, flag);
      }
      values[key] = o.default;
      continue;
    }
    let value: unknown;
    for (const raw of raws) {
      const where = raw.source === `--${flag}` ? `--${flag}` : `--${flag} (from ${raw.source})`;
      const shown = o.secret ? '(value not shown)' : quote(raw.value);
      let v: unknown;
      try {
        v = o.parse(raw.value);
      } catch (err) {
        if (err instanceof InvalidValue) throw new ConfigError(`${where}: invalid value ${shown}: ${err.message}`, flag);
        throw err;
      }
      const why = o.validate(v);
      if (why) throw new ConfigError(`${where}: invalid value ${shown}: ${why}`, flag);
      value = o.repeatable && Array.isArray(value) && Array.isArray(v) ? [...(value as unknown[]), ...v] : v;
    }
    values[key] = value;
  }
  const typed = values as ConfigValues<O>;
  for (const check of spec.checks) {
    const why = check(typed);
    if (why) throw new ConfigError(why);
  }
  return typed;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** The configuration as printable values (secrets shown as `[redacted]` when set), for a `started` log line. */
export function describeConfig<O extends OptionsRecord>(spec: ConfigSpec<O>, values: ConfigValues<O>): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [key, o] of Object.entries(spec.options)) {
    const v = (values as Record<string, unknown>)[key];
    if (v === undefined) out[key] = null;
    else if (o.secret) out[key] = '[redacted]';
    else if (o.type === 'int' || o.type === 'bool') out[key] = v as number | boolean;
    else out[key] = o.format(v);
  }
  return out;
}

/** Usage text for `--help`. */
export function formatUsage<O extends OptionsRecord>(spec: ConfigSpec<O>, info: { name: string; summary?: string; extra?: ReadonlyArray<[string, string]> }): string {
  const rows: Array<[string, string]> = [];
  for (const [key, o] of Object.entries(spec.options)) {
    const flag = flagName(key, o);
    const left = o.type === 'bool' ? `--${flag}` : `--${flag}=${o.placeholder}`;
    const notes: string[] = [];
    if (o.required) notes.push('required');
    else if (o.defaultText) notes.push(`default: ${o.defaultText}`);
    else if (o.default !== undefined && !o.secret && !(Array.isArray(o.default) && o.default.length === 0)) notes.push(`default: ${o.format(o.default)}`);
    notes.push(`env ${envName(key, o)}${o.envAliases.length ? `, ${o.envAliases.join(', ')}` : ''}`);
    rows.push([left, `${o.description} (${notes.join('; ')})`]);
    if (o.fromFile) rows.push([`--${flag}-file=PATH`, `read --${flag} from a file (env ${envName(key, o)}_FILE)`]);
  }
  rows.push(...(info.extra ?? []), ['--help', 'show this help']);
  const width = Math.min(36, Math.max(...rows.map(([l]) => l.length)) + 2);
  const lines = [`Usage: ${info.name} [flags]`];
  if (info.summary) lines.push('', info.summary);
  lines.push('', 'Flags (flags win over environment variables):');
  for (const [l, r] of rows) lines.push(l.length + 2 > width ? `  ${l}\n  ${' '.repeat(width)}${r}` : `  ${l.padEnd(width)}${r}`);
  return `${lines.join('\n')}\n`;
}
