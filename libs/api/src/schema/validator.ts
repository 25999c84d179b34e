import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { TLocalizedValidationError } from 'typebox/error';
import { DNS1123_LABEL_PATTERN, DNS1123_SUBDOMAIN_PATTERN, WIREGUARD_KEY_PATTERN } from './fields.ts';
import { rulesOf } from './rules.ts';

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

export type Validate<T> = (input: unknown) => ValidationResult<T>;

/** Friendlier wording for the patterns Strait uses. */
const PATTERN_HINTS: Record<string, string> = {
  [DNS1123_LABEL_PATTERN]: "must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit",
  [DNS1123_SUBDOMAIN_PATTERN]: "must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.'",
  [WIREGUARD_KEY_PATTERN]: 'must be a WireGuard public key: 32 bytes in base64 (44 characters ending in "=")',
};

function pointerToPath(root: string, pointer: string): string {
  if (pointer === '') return root;
  let out = root;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    out += /^[0-9]+$/.test(segment) ? `[${segment}]` : `.${segment}`;
  }
  return out;
}

function valueAt(value: unknown, pointer: string): unknown {
  let current = value;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function describeError(root: string, error: TLocalizedValidationError, value: unknown): string[] {
  const path = pointerToPath(root, error.instancePath);
  const actual = valueAt(value, error.instancePath);
  switch (error.keyword) {
    case 'required':
      return error.params.requiredProperties.map((p) => `${path}.${p}: required field is missing`);
    case 'enum':
      return [`${path}: unsupported value ${show(actual)}; supported values: ${error.params.allowedValues.join(', ')}`];
    case 'pattern': {
      const hint = PATTERN_HINTS[String(error.params.pattern)];
      return [`${path}: ${show(actual)} ${hint ?? `must match the pattern ${String(error.params.pattern)}`}`];
    }
    case 'minimum':
    case 'maximum':
    case 'format':
      return [`${path}: ${error.message} (got ${show(actual)})`];
    case 'type':
      return [`${path}: ${error.message} (got ${show(actual)})`];
    case 'boolean':
      return []; // the companion keyword error says more
    default:
      return [`${path}: ${error.message}`];
  }
}

function matchesType(type: unknown, value: unknown): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return true;
  }
}

/** Checks what JSON Schema cannot express: CEL-rule mirrors and list uniqueness (list-type set/map). */
function walk(schema: Record<string, unknown>, value: unknown, path: string, errors: string[]): void {
  if (!matchesType(schema['type'], value)) return;
  if (schema['type'] === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema['properties'] ?? {}) as Record<string, Record<string, unknown>>;
    for (const [key, sub] of Object.entries(properties)) {
      if (object[key] !== undefined) walk(sub, object[key], `${path}.${key}`, errors);
    }
    const additional = schema['additionalProperties'];
    if (typeof additional === 'object' && additional !== null) {
      for (const [key, item] of Object.entries(object)) {
        if (!(key in properties)) walk(additional as Record<string, unknown>, item, `${path}[${JSON.stringify(key)}]`, errors);
      }
    }
  } else if (schema['type'] === 'array') {
    const items = schema['items'] as Record<string, unknown> | undefined;
    const array = value as unknown[];
    if (items) array.forEach((item, i) => walk(items, item, `${path}[${i}]`, errors));
    const listType = schema['x-kubernetes-list-type'];
    if (listType === 'set') {
      const seen = new Set<string>();
      array.forEach((item, i) => {
        const key = JSON.stringify(item);
        if (seen.has(key)) errors.push(`${path}[${i}]: duplicate value ${show(item)}`);
        seen.add(key);
      });
    } else if (listType === 'map') {
      const keys = (schema['x-kubernetes-list-map-keys'] ?? []) as string[];
      const seen = new Set<string>();
      array.forEach((item, i) => {
        if (typeof item !== 'object' || item === null) return;
        const key = JSON.stringify(keys.map((k) => (item as Record<string, unknown>)[k]));
        if (seen.has(key)) {
          const what = keys.map((k) => `${k}=${show((item as Record<string, unknown>)[k])}`).join(', ');
          errors.push(`${path}[${i}]: duplicate entry with ${what}`);
        }
        seen.add(key);
      });
    }
  }
  for (const rule of rulesOf(schema)) {
    if (!rule.check) continue;
    try {
      rule.check(value, (message, relative) => errors.push(`${path}${relative ?? rule.fieldPath ?? ''}: ${message}`));
    } catch (error) {
      errors.push(`${path}: could not be validated (${(error as Error).message})`);
    }
  }
}

/**
 * Builds a runtime validator from a schema: JSON Schema checks (TypeBox, compiled on first use),
 * then the TypeScript mirrors of the CEL rules and list uniqueness. Unknown fields are pruned, as
 * kube-apiserver prunes them; the input is not modified. Errors name the field:
 * `spec.entries[3].externalIP: "10.9.0.1" ...`.
 */
export function createValidator<S extends TSchema>(schema: S, rootPath: string): Validate<Static<S>> {
  let compiled: ReturnType<typeof Compile<S>> | undefined;
  return (input: unknown) => {
    compiled ??= Compile(schema);
    let value: unknown;
    try {
      value = compiled.Clean(structuredClone(input));
    } catch (error) {
      return { ok: false, errors: [`${rootPath}: not a plain JSON value (${(error as Error).message})`] };
    }
    const errors: string[] = [];
    for (const error of compiled.Errors(value)) errors.push(...describeError(rootPath, error, value));
    walk(schema as unknown as Record<string, unknown>, value, rootPath, errors);
    if (errors.length > 0) return { ok: false, errors: [...new Set(errors)] };
    return { ok: true, value: value as Static<S> };
  };
}
