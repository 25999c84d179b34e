import { describe, expect, it } from 'vitest';
import { gatewayKeySecret } from './keys.ts';

describe('gatewayKeySecret', () => {
  it('holds a 32-byte WireGuard key and a PSK, different every time', () => {
    const a = gatewayKeySecret('strait-system') as { data: Record<string, string> };
    const b = gatewayKeySecret('strait-system') as { data: Record<string, string> };
    const wg = Buffer.from(Buffer.from(a.data['wireguard-private-key']!, 'base64').toString(), 'base64');
    expect(wg).toHaveLength(32);
    expect(Buffer.from(a.data['ipsec-psk']!, 'base64').toString().length).toBeGreaterThanOrEqual(16);
    expect(a.data['wireguard-private-key']).not.toBe(b.data['wireguard-private-key']);
  });
});
