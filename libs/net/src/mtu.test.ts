import { describe, expect, it } from 'vitest';
import { driverOverhead, mssForMtu, tunnelMtu } from './mtu.ts';

describe('mtu', () => {
  it('driver overheads', () => {
    expect(driverOverhead('wireguard')).toBe(80);
    expect(driverOverhead('wireguard', { underlay: 4 })).toBe(60);
    expect(driverOverhead('vxlan')).toBe(50);
    expect(driverOverhead('vxlan', { underlay: 6 })).toBe(70);
    expect(driverOverhead('ipsec')).toBe(85);
    expect(driverOverhead('ipsec', { ipsecSuite: 'aes-gcm' })).toBe(65);
    expect(driverOverhead('ipsec', { ipsecSuite: 'aes-gcm', natTraversal: false })).toBe(57);
    expect(driverOverhead('ipsec', { underlay: 6 })).toBe(105);
  });

  it('tunnel MTU and MSS', () => {
    expect(tunnelMtu(1500, 'wireguard')).toBe(1420);
    expect(tunnelMtu(1500, 'vxlan')).toBe(1450);
    expect(tunnelMtu(9000, 'ipsec')).toBe(8915);
    expect(mssForMtu(1420)).toBe(1380);
    expect(mssForMtu(1420, 6)).toBe(1360);
    expect(() => tunnelMtu(100, 'vxlan')).toThrow('underlayMtu: 100 is not an integer in 576..65535');
    expect(() => tunnelMtu(1300, 'wireguard', { underlay: 6 })).toThrow("below IPv6's minimum 1280");
  });
});
