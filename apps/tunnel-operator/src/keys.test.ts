import { describe, expect, it } from 'vitest';
import { KeySecretError, parseGatewayKeys } from './keys.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const PRIVATE = 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=';

describe('parseGatewayKeys', () => {
  it('reads the WireGuard private key and the IPsec PSK from the Secret data', () => {
    expect(parseGatewayKeys({ data: { 'wireguard-private-key': b64(`${PRIVATE}\n`), 'ipsec-psk': b64('psk-of-the-cluster-set') } }, 'ns/keys')).toEqual({
      wireguardPrivateKey: PRIVATE,
      ipsecPsk: 'psk-of-the-cluster-set',
    });
    expect(parseGatewayKeys({ data: { 'ipsec-psk': b64('psk-of-the-cluster-set') } }, 'ns/keys').wireguardPrivateKey).toBeUndefined();
  });

  it('names the Secret and the key on bad input, never a value', () => {
    const err = (data: Record<string, string>): KeySecretError => {
      try {
        parseGatewayKeys({ data }, 'strait-system/strait-gateway-keys');
      } catch (e) {
        return e as KeySecretError;
      }
      throw new Error('no error');
    };
    expect(err({}).message).toBe('Secret strait-system/strait-gateway-keys has neither wireguard-private-key nor ipsec-psk');
    const empty = err({ 'wireguard-private-key': b64('  '), 'ipsec-psk': b64('secret-value-123') });
    expect(empty.message).toBe('Secret strait-system/strait-gateway-keys: wireguard-private-key is empty');
    expect(empty.message).not.toContain('secret-value-123');
  });
});
