import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';

/**
 * WireGuard keys: 32-byte Curve25519 values. Strait's API carries them in base64 (what `wg` prints);
 * the UAPI protocol wants lower-case hex. Errors name the field, never the value.
 */
export const KEY_BYTES = 32;

export class WireGuardKeyError extends Error {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = 'WireGuardKeyError';
    this.field = field;
  }
}

const BASE64_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
const HEX_KEY = /^[0-9a-f]{64}$/;

/** Decodes and validates a base64 key; `field` names it in the error (e.g. `backendConfig.publicKey`). */
export function decodeKey(base64: string, field = 'key'): Buffer {
  if (typeof base64 !== 'string' || base64.length === 0) throw new WireGuardKeyError(field, 'missing WireGuard key');
  if (!BASE64_KEY.test(base64)) throw new WireGuardKeyError(field, `not a WireGuard key (expected ${KEY_BYTES} bytes in base64, 44 characters ending in '=')`);
  return Buffer.from(base64, 'base64');
}

export function isValidKey(base64: string): boolean {
  return typeof base64 === 'string' && BASE64_KEY.test(base64);
}

/** Validates a base64 key and returns it unchanged (for fluent checks of input). */
export function validateKey(base64: string, field = 'key'): string {
  decodeKey(base64, field);
  return base64;
}

export function keyToHex(base64: string, field = 'key'): string {
  return decodeKey(base64, field).toString('hex');
}

export function hexToKey(hex: string, field = 'key'): string {
  const h = typeof hex === 'string' ? hex.toLowerCase() : '';
  if (!HEX_KEY.test(h)) throw new WireGuardKeyError(field, `not a WireGuard key (expected ${KEY_BYTES} bytes in hex)`);
  return Buffer.from(h, 'hex').toString('base64');
}

export function isZeroKey(base64: string): boolean {
  return isValidKey(base64) && Buffer.from(base64, 'base64').every((b) => b === 0);
}

// DER prefixes of PKCS#8 / SPKI wrappers around a raw X25519 key (RFC 8410, OID 1.3.101.110).
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519_PREFIX_LEN = 12;

/** Derives the public key of a base64 private key (X25519 scalar multiplication of the base point). */
export function publicKeyFromPrivate(privateKey: string, field = 'privateKey'): string {
  const raw = decodeKey(privateKey, field);
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return Buffer.from(spki.subarray(SPKI_X25519_PREFIX_LEN)).toString('base64');
}

/** A new private key (clamped as `wg genkey` does). For callers that create the cluster's key Secret, and tests. */
export function generatePrivateKey(): string {
  const { privateKey } = generateKeyPairSync('x25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const raw = Buffer.from(der.subarray(der.length - KEY_BYTES));
  raw[0]! &= 248;
  raw[31]! &= 127;
  raw[31]! |= 64;
  return raw.toString('base64');
}

export function generateKeyPair(): { privateKey: string; publicKey: string } {
  const privateKey = generatePrivateKey();
  return { privateKey, publicKey: publicKeyFromPrivate(privateKey) };
}

/** A random 32-byte pre-shared key (what `wg genpsk` prints). */
export function generatePresharedKey(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(KEY_BYTES))).toString('base64');
}

/**
 * A one-way fingerprint of a key (first 16 hex digits of SHA-256 over the raw bytes): lets Strait tell
 * whether a configured pre-shared key equals the desired one without keeping or printing the key.
 */
export function keyFingerprint(base64: string, field = 'key'): string {
  return createHash('sha256').update(decodeKey(base64, field)).digest('hex').slice(0, 16);
}
