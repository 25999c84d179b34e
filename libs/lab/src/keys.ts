import { generateKeyPairSync, randomBytes } from 'node:crypto';

/** A lab-wide IPsec pre-shared key: both ends of an IPsec tunnel authenticate with the same PSK. */
export function labIpsecPsk(): string {
  return randomBytes(32).toString('base64');
}

/**
 * The cluster's shared gateway key material, as the tunnel-operator reads it from its Secret: its own
 * WireGuard key, and the IPsec PSK it shares with its peers (the lab gives every cluster the same one).
 */
export function gatewayKeySecret(namespace: string, psk: string, name = 'strait-gateway-keys'): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('x25519');
  const d = privateKey.export({ format: 'jwk' }).d!;
  const wireguardKey = Buffer.from(d, 'base64url').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'Opaque',
    data: {
      'wireguard-private-key': Buffer.from(wireguardKey).toString('base64'),
      'ipsec-psk': Buffer.from(psk).toString('base64'),
    },
  };
}
