import { describe, expect, it } from 'vitest';
import { gatewayKeySecret, labIpsecPsk } from './keys.ts';

describe('gatewayKeySecret', () => {
  it('holds its own 32-byte WireGuard key and the lab-wide PSK', () => {
    const psk = labIpsecPsk();
    expect(labIpsecPsk()).not.toBe(psk);
    const a = gatewayKeySecret('strait-system', psk) as { data: Record<string, string> };
    const b = gatewayKeySecret('strait-system', psk) as { data: Record<string, string> };
    const wg = Buffer.from(Buffer.from(a.data['wireguard-private-key']!, 'base64').toString(), 'base64');
    expect(wg).toHaveLength(32);
    expect(Buffer.from(a.data['ipsec-psk']!, 'base64').toString().length).toBeGreaterThanOrEqual(16);
    expect(a.data['wireguard-private-key']).not.toBe(b.data['wireguard-private-key']);
    expect(Buffer.from(a.data['ipsec-psk']!, 'base64').toString()).toBe(psk);
    expect(b.data['ipsec-psk']).toBe(a.data['ipsec-psk']);
  });
});
