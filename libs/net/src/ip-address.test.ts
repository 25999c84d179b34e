import { describe, expect, it } from 'vitest';
import { canonicalCidr, canonicalIfAddress, canonicalInterval, canonicalIp, canonicalRouteDst, ipFamily } from './ip-address.ts';

describe('ip-address', () => {
  it('canonicalizes IPv4 and IPv6 (RFC 5952)', () => {
    expect(canonicalIp('10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalIp('FD00:0:0:0:0:0:0:1')).toBe('fd00::1');
    expect(canonicalIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIp('::')).toBe('::');
    expect(canonicalIp('::ffff:10.1.2.3')).toBe('::ffff:a01:203');
    expect(canonicalIp('1:0:0:2:0:0:0:3')).toBe('1:0:0:2::3');
    expect(canonicalIp('10.0.0.256')).toBeUndefined();
    expect(canonicalIp('fe80::1%eth0')).toBeUndefined();
  });
  it('prefixes: host bits cleared, bare address = host prefix', () => {
    expect(canonicalCidr('10.1.2.3/16')).toBe('10.1.0.0/16');
    expect(canonicalCidr('10.1.2.3')).toBe('10.1.2.3/32');
    expect(canonicalCidr('fd00::1/64')).toBe('fd00::/64');
    expect(canonicalCidr('10.0.0.0/33')).toBeUndefined();
    expect(canonicalIfAddress('10.1.2.3/16')).toBe('10.1.2.3/16');
    expect(canonicalRouteDst('default')).toBe('0.0.0.0/0');
    expect(canonicalRouteDst('default', 6)).toBe('::/0');
    expect(ipFamily('fd00::/8')).toBe(6);
  });
  it('intervals as nft prints them', () => {
    expect(canonicalInterval('10.0.0.0/8')).toBe('10.0.0.0/8');
    expect(canonicalInterval('10.0.0.5/32')).toBe('10.0.0.5');
    expect(canonicalInterval('10.0.0.0-10.0.0.255')).toBe('10.0.0.0/24');
    expect(canonicalInterval('172.16.0.1-172.16.0.9')).toBe('172.16.0.1-172.16.0.9');
    expect(canonicalInterval('10.0.0.9-10.0.0.1')).toBeUndefined();
  });
});
