import { describe, expect, it } from 'vitest';
import {
  contains,
  formatIpv4,
  formatPrefix,
  hostAt,
  overlaps,
  parseIpv4,
  parseIpv4Prefix,
  subnet,
  subnetCount,
  usableHosts,
} from './ipv4.ts';

describe('IPv4 prefixes', () => {
  it('parses and formats addresses', () => {
    expect(parseIpv4('10.1.2.3')).toBe(0x0a010203);
    expect(formatIpv4(0xc0a80101)).toBe('192.168.1.1');
    expect(formatIpv4(0xffffffff)).toBe('255.255.255.255');
    for (const bad of ['10.1.2', '10.1.2.256', '01.1.1.1', 'a.b.c.d', '::1', '']) expect(parseIpv4(bad)).toBeUndefined();
  });

  it('parses prefixes and rejects host bits, naming the field', () => {
    expect(parseIpv4Prefix('f', '10.0.0.0/16')).toEqual({ network: 0x0a000000, prefix: 16 });
    expect(parseIpv4Prefix('f', '0.0.0.0/0')).toEqual({ network: 0, prefix: 0 });
    expect(() => parseIpv4Prefix('clusters[0].podCIDR', '10.0.0.1/16')).toThrow(
      'clusters[0].podCIDR: 10.0.0.1/16 has host bits set (the network would be 10.0.0.0/16)',
    );
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/016', 'fd00::/64', 42]) {
      expect(() => parseIpv4Prefix('x', bad)).toThrow(/^x: .* is not an IPv4 prefix/);
    }
  });

  it('slices a prefix into sub-prefixes', () => {
    const p = parseIpv4Prefix('p', '10.0.0.0/16');
    expect(formatPrefix(subnet(p, 24, 0))).toBe('10.0.0.0/24');
    expect(formatPrefix(subnet(p, 24, 2))).toBe('10.0.2.0/24');
    expect(formatPrefix(subnet(p, 24, 255))).toBe('10.0.255.0/24');
    expect(() => subnet(p, 24, 256)).toThrow(/has 256 subnets of \/24; index 256 is out of range/);
    expect(() => subnet(p, 8, 0)).toThrow(/not inside/);
    expect(subnetCount(p, 24)).toBe(256);
    expect(subnetCount(parseIpv4Prefix('p', '10.0.0.0/23'), 24)).toBe(2);
    expect(subnetCount(p, 15)).toBe(0);
  });

  it('addresses hosts, counts usable ones, detects overlap and containment', () => {
    const p = parseIpv4Prefix('p', '192.168.3.0/24');
    expect(formatIpv4(hostAt(p, 1))).toBe('192.168.3.1');
    expect(() => hostAt(p, 256)).toThrow(/outside 192.168.3.0\/24/);
    expect(usableHosts(p)).toBe(254);
    expect(usableHosts(parseIpv4Prefix('p', '10.0.0.0/31'))).toBe(0);
    expect(overlaps(parseIpv4Prefix('a', '10.0.0.0/16'), parseIpv4Prefix('b', '10.0.255.0/24'))).toBe(true);
    expect(overlaps(parseIpv4Prefix('a', '10.0.0.0/16'), parseIpv4Prefix('b', '10.1.0.0/16'))).toBe(false);
    expect(contains(p, parseIpv4('192.168.3.77') as number)).toBe(true);
    expect(contains(p, parseIpv4('192.168.4.1') as number)).toBe(false);
  });
});
