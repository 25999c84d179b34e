import { describe, expect, it } from 'vitest';
import {
  decodeKey,
  generateKeyPair,
  generatePresharedKey,
  generatePrivateKey,
  hexToKey,
  isValidKey,
  isZeroKey,
  keyToHex,
  publicKeyFromPrivate,
  validateKey,
  WireGuardKeyError,
} from './keys.ts';

// A pair produced by `wg genkey | tee /dev/stderr | wg pubkey`.
const PRIVATE = '4BA1DfycUm/Tzh553AIpCsOPL80IuFrxSc3WdQuXwXw=';
const PUBLIC = 'hSkpX6FDLK5xOu3XkY9wT05TKz41JfYYsjtmlauRCjw=';
const PRIVATE_HEX = 'e010350dfc9c526fd3ce1e79dc02290ac38f2fcd08b85af149cdd6750b97c17c';

describe('WireGuard keys', () => {
  it('derives the public key like wg pubkey', () => {
    expect(publicKeyFromPrivate(PRIVATE)).toBe(PUBLIC);
  });

  it('converts base64 to hex and back', () => {
    expect(keyToHex(PRIVATE)).toBe(PRIVATE_HEX);
    expect(hexToKey(PRIVATE_HEX)).toBe(PRIVATE);
    expect(hexToKey(PRIVATE_HEX.toUpperCase())).toBe(PRIVATE);
  });

  it('generates clamped private keys whose public keys derive consistently', () => {
    for (let i = 0; i < 20; i++) {
      const { privateKey, publicKey } = generateKeyPair();
      const raw = Buffer.from(privateKey, 'base64');
      expect(raw[0]! & 7).toBe(0);
      expect(raw[31]! & 0xc0).toBe(0x40);
      expect(publicKeyFromPrivate(privateKey)).toBe(publicKey);
    }
    expect(generatePrivateKey()).not.toBe(generatePrivateKey());
    expect(isValidKey(generatePresharedKey())).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['too short', 'AAAA'],
    ['33 bytes', Buffer.alloc(33, 1).toString('base64')],
    ['31 bytes', Buffer.alloc(31, 1).toString('base64')],
    ['not base64', '!'.repeat(43) + '='],
    ['hex instead of base64', PRIVATE_HEX],
    ['non-canonical last char', PRIVATE.slice(0, 42) + 'x='],
  ])('rejects %s without echoing the value', (_n, value) => {
    expect(isValidKey(value)).toBe(false);
    let err: unknown;
    try {
      decodeKey(value, 'backendConfig.privateKey');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WireGuardKeyError);
    expect((err as Error).message).toMatch(/^backendConfig\.privateKey: /);
    if (value.length > 4) expect((err as Error).message).not.toContain(value);
  });

  it('rejects malformed hex', () => {
    expect(() => hexToKey('abc')).toThrow(WireGuardKeyError);
    expect(() => hexToKey('z'.repeat(64))).toThrow(/hex/);
  });

  it('validates and recognises the zero key', () => {
    expect(validateKey(PUBLIC, 'publicKey')).toBe(PUBLIC);
    expect(isZeroKey(Buffer.alloc(32).toString('base64'))).toBe(true);
    expect(isZeroKey(PUBLIC)).toBe(false);
  });

  it('does not leak the private key when derivation fails', () => {
    expect(() => publicKeyFromPrivate('secret-but-not-a-key', 'privateKey')).toThrow(/^privateKey: /);
    expect(() => publicKeyFromPrivate('secret-but-not-a-key', 'privateKey')).not.toThrow(/secret-but/);
  });
});
