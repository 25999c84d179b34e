/**
 * Deep redaction of secret-bearing fields before anything is written to a log.
 *
 * A key is secret when its normalised name (lower case, without `-` and `_`) is one of the
 * well-known secret names or ends with one of them (`natsPassword`, `clientSecret`, `bearerToken`).
 * Under a `backendConfig` object (cable-driver configuration) every key that names key material
 * and is not explicitly public (`publicKey`) is secret as well. The `data`/`stringData` of a
 * Kubernetes Secret object are always redacted.
 */
export const REDACTED = '[redacted]';

const SECRET_NAMES = ['privatekey', 'presharedkey', 'psk', 'token', 'password', 'passwd', 'secret', 'authorization', 'cookie', 'apikey', 'credentials'];

function normalise(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '');
}

/** True when a field with this name carries a secret value and must never be printed. */
export function isSecretKey(key: string): boolean {
  const k = normalise(key);
  return SECRET_NAMES.some((name) => k === name || k.endsWith(name));
}

function isBackendKeyMaterial(key: string): boolean {
  const k = normalise(key);
  if (k.includes('public')) return false;
  return k.includes('key') || k.includes('psk') || k.includes('cert');
}

const MAX_DEPTH = 12;

/**
 * Returns `value` with secret fields replaced by `[redacted]`. Objects without secrets are returned
 * as they are (no copy); objects with secrets are shallow-copied along the path to the secret, so the
 * caller's object is never modified. Cycles and very deep structures are cut off.
 */
export function redactSecrets<T>(value: T): T {
  return walk(value, false, 0, new WeakSet()) as T;
}

function walk(value: unknown, inBackendConfig: boolean, depth: number, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error || value instanceof Date || ArrayBuffer.isView(value)) return value;
  if (depth > MAX_DEPTH) return '[depth limit]';
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const v = walk(value[i], inBackendConfig, depth + 1, seen);
        if (v !== value[i]) {
          out ??= value.slice();
          out[i] = v;
        }
      }
      return out ?? value;
    }
    const obj = value as Record<string, unknown>;
    const isKubeSecret = obj['kind'] === 'Secret' && typeof obj['apiVersion'] === 'string';
    let out: Record<string, unknown> | undefined;
    for (const key of Object.keys(obj)) {
      const v = obj[key];
      let next: unknown;
      if (v !== undefined && v !== null && v !== '' && (isSecretKey(key) || (inBackendConfig && isBackendKeyMaterial(key)) || (isKubeSecret && (key === 'data' || key === 'stringData')))) {
        next = REDACTED;
      } else {
        next = walk(v, inBackendConfig || normalise(key) === 'backendconfig', depth + 1, seen);
      }
      if (next !== v) {
        out ??= { ...obj };
        out[key] = next;
      }
    }
    return out ?? value;
  } finally {
    seen.delete(value);
  }
}
