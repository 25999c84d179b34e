import { describe, expect, it } from 'vitest';
import { cidrContainsAddress, formatV4, outermostCidrs, parseNatAddress, parseNatCidr, parseV4, type NatCidr } from './addresses.ts';

const cidr = (t: string): NatCidr => {
  const c = parseNatCidr(t);
  if (typeof c === 'string') throw new Error(c);
  return c;
};

describe('NAT addresses', () => {
  it('parses IPv4 strictly', () => {
    expect(parseV4('10.0.0.1')).toBe(0x0a000001);
    expect(parseV4('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['010.0.0.1', '10.0.0', '10.0.0.1.2', '10.0.0.256', '10..0.1', ' 10.0.0.1', '10.0.0.1/32', '1e1.0.0.1']) expect(parseV4(bad)).toBe(-1);
    expect(formatV4(0xc0a80101)).toBe('192.168.1.1');
  });

  it('canonicalises IPv6 and rejects zones and IPv4-mapped addresses', () => {
    expect(parseNatAddress('FD00:0:0::1')?.text).toBe('fd00::1');
    expect(parseNatAddress('fe80::1%eth0')).toBeUndefined();
    expect(parseNatAddress('::ffff:10.0.0.1')).toBeUndefined();
    expect(parseNatAddress(42)).toBeUndefined();
  });

  it('parses CIDRs, refusing host bits with the canonical form in the message', () => {
    expect(cidr('10.32.0.0/16')).toMatchObject({ family: 4, prefixLength: 16, text: '10.32.0.0/16' });
    expect(parseNatCidr('10.32.0.1/16')).toBe('"10.32.0.1/16" has host bits set; write 10.32.0.0/16');
    expect(parseNatCidr('fd00::1/64')).toBe('"fd00::1/64" has host bits set; write fd00::/64');
    expect(parseNatCidr('10.32.0.0/33')).toBe('"10.32.0.0/33" has a prefix length above 32');
    expect(parseNatCidr('10.32.0.0')).toContain('is not a CIDR');
  });

  it('checks containment in both families', () => {
    const a = (t: string) => parseNatAddress(t) ?? (() => { throw new Error(t); })();
    expect(cidrContainsAddress(cidr('10.32.0.0/16'), a('10.32.255.255'))).toBe(true);
    expect(cidrContainsAddress(cidr('10.32.0.0/16'), a('10.33.0.0'))).toBe(false);
    expect(cidrContainsAddress(cidr('0.0.0.0/0'), a('1.2.3.4'))).toBe(true);
    expect(cidrContainsAddress(cidr('fd00:32::/64'), a('fd00:32::ffff'))).toBe(true);
    expect(cidrContainsAddress(cidr('fd00:32::/64'), a('10.0.0.1'))).toBe(false);
  });

  it('keeps only the outermost of nested CIDRs', () => {
    expect(outermostCidrs(['10.20.128.0/17', '10.20.0.0/16', '10.20.0.0/16', '10.0.0.0/24', '10.0.0.0/8', '11.0.0.0/8'].map(cidr)).map((c) => c.text)).toEqual([
      '10.0.0.0/8',
      '11.0.0.0/8',
    ]);
  });
});
