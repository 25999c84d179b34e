import type { KubeObject, ResourceClient } from '@strait/kube';

/** Keys of the cluster's gateway Secret (shared by every gateway replica). */
export const WIREGUARD_PRIVATE_KEY = 'wireguard-private-key';
export const IPSEC_PSK = 'ipsec-psk';

export interface SecretObject extends KubeObject {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** The cluster's key material. Secrets: never logged, never in errors, events or status. */
export interface GatewayKeys {
  readonly wireguardPrivateKey: string | undefined;
  readonly ipsecPsk: string | undefined;
}

export class KeySecretError extends Error {
  override readonly name = 'KeySecretError';
}

/** Reads the keys from the Secret's data (base64); errors name the Secret and key, never a value. */
export async function loadGatewayKeys(client: ResourceClient<SecretObject>, namespace: string, name: string): Promise<GatewayKeys> {
  const secret = await client.get({ namespace, name });
  if (!secret) throw new KeySecretError(`Secret ${namespace}/${name} (--key-secret) not found`);
  return parseGatewayKeys(secret, `${namespace}/${name}`);
}

export function parseGatewayKeys(secret: SecretObject, ref: string): GatewayKeys {
  const read = (key: string): string | undefined => {
    const raw = secret.data?.[key];
    if (raw === undefined) return undefined;
    const text = Buffer.from(raw, 'base64').toString('utf8').trim();
    if (text === '') throw new KeySecretError(`Secret ${ref}: ${key} is empty`);
    return text;
  };
  const keys = { wireguardPrivateKey: read(WIREGUARD_PRIVATE_KEY), ipsecPsk: read(IPSEC_PSK) };
  if (!keys.wireguardPrivateKey && !keys.ipsecPsk) throw new KeySecretError(`Secret ${ref} has neither ${WIREGUARD_PRIVATE_KEY} nor ${IPSEC_PSK}`);
  return keys;
}
