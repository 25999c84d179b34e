import { describe, expect, it } from 'vitest';
import { firstServiceIp, formatIpv4, parseIpv4Cidr } from './cidr.ts';

describe('service CIDRs', () => {
  it('gives the first service IP', () => {
    expect(firstServiceIp('10.96.0.0/16')).toBe('10.96.0.1');
    expect(firstServiceIp('10.0.0.0/24')).toBe('10.0.0.1');
    expect(firstServiceIp('172.16.255.0/24')).toBe('172.16.255.1');
  });

  it('rejects malformed CIDRs and host bits', () => {
    expect(() => parseIpv4Cidr('10.96.0.0')).toThrow(/is not an IPv4 CIDR/);
    expect(() => parseIpv4Cidr('300.1.1.0/24')).toThrow(/is not an IPv4 CIDR/);
    expect(() => parseIpv4Cidr('10.0.0.0/31')).toThrow(/is not an IPv4 CIDR/);
    expect(() => parseIpv4Cidr('fd00::/64')).toThrow(/is not an IPv4 CIDR/);
    expect(() => parseIpv4Cidr('10.96.0.5/16')).toThrow(/host bits set \(network would be 10\.96\.0\.0\/16\)/);
  });

  it('formats addresses', () => {
    expect(formatIpv4(0xc0a80101)).toBe('192.168.1.1');
  });
});
