import { describe, expect, it } from 'vitest';
import {
  cidrContainsCIDR,
  cidrContainsIP,
  cidrsOverlap,
  formatCIDR,
  formatIP,
  isCIDR,
  isCanonicalIP,
  isIP,
  isMaskedCIDR,
  maskedPrefix,
  parseCIDR,
  parseIP,
} from './ip.ts';

describe('parseIP / isIP (Kubernetes CEL isIP semantics)', () => {
  it.each([
    '0.0.0.0',
    '10.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    'fd00::1',
    'FD00::1',
    '2001:db8:0:0:0:0:0:1',
    '2001:db8::0:1',
    '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8',
    '1:2:3:4:5:6:1.2.3.4',
    '::1.2.3.4',
    'fe80::1',
  ])('accepts %s', (ip) => {
    expect(isIP(ip)).toBe(true);
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.1',
    '010.0.0.1',
    '1.2.3.04',
    '1.2.3.-1',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3.4/32',
    ':::1',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '12345::1',
    'g::1',
    ':1::2',
    '1::2:',
    'fe80::1%eth0',
    '::ffff:1.2.3.4',
    '::ffff:102:304',
    '1:2:3:4:5:6:7:1.2.3.4',
    '::1.2.3.04',
    'localhost',
  ])('rejects %j', (ip) => {
    expect(isIP(ip)).toBe(false);
  });

  it('rejects non-strings without throwing', () => {
    expect(isIP(undefined as unknown as string)).toBe(false);
    expect(isCIDR(42 as unknown as string)).toBe(false);
  });

  it('reads values and families', () => {
    expect(parseIP('10.0.0.1')).toEqual({ family: 4, value: 0x0a000001n });
    expect(parseIP('::1')).toEqual({ family: 6, value: 1n });
    expect(parseIP('::1.2.3.4')).toEqual({ family: 6, value: 0x01020304n });
  });
});

describe('canonical form (RFC 5952, as Go netip prints it)', () => {
  it.each([
    ['2001:DB8::ABCD', '2001:db8::abcd'],
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8::0:0:0:abcd', '2001:db8::abcd'],
    ['2001:0db8::1', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'], // longest zero run wins
    ['2001:0:0:1:0:0:1:1', '2001::1:0:0:1:1'], // first of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
    ['0:0:0:0:0:0:0:0', '::'],
    ['::1.2.3.4', '::102:304'],
    ['10.0.0.1', '10.0.0.1'],
  ])('%s → %s', (input, canonical) => {
    const address = parseIP(input);
    expect(address).toBeDefined();
    expect(formatIP(address!)).toBe(canonical);
    expect(isCanonicalIP(canonical)).toBe(true);
    expect(isCanonicalIP(input)).toBe(input === canonical);
  });
});

describe('CIDRs', () => {
  it.each(['10.0.0.0/8', '10.0.0.1/8', '0.0.0.0/0', '10.0.0.1/32', 'fd00::/64', '::/0', '::1/128'])('accepts %s', (c) => {
    expect(isCIDR(c)).toBe(true);
  });

  it.each([
    '10.0.0.0',
    '10.0.0.0/33',
    '10.0.0.0/08',
    '10.0.0.0/-1',
    '10.0.0.0/+8',
    '10.0.0.0/',
    '/8',
    'fd00::/129',
    '::ffff:10.0.0.0/104',
    'fe80::%eth0/64',
    '010.0.0.0/8',
    '10.0.0.0/8/8',
  ])('rejects %j', (c) => {
    expect(isCIDR(c)).toBe(false);
  });

  it('masks host bits', () => {
    expect(isMaskedCIDR('10.1.0.0/16')).toBe(true);
    expect(isMaskedCIDR('10.1.0.1/16')).toBe(false);
    expect(isMaskedCIDR('fd00::1/64')).toBe(false);
    expect(formatCIDR(maskedPrefix(parseCIDR('10.1.2.3/16')!))).toBe('10.1.0.0/16');
    expect(formatCIDR(maskedPrefix(parseCIDR('FD00:0:0:0:1::1/48')!))).toBe('fd00::/48');
  });

  it('containsIP, like cidr(x).containsIP(y)', () => {
    expect(cidrContainsIP('10.0.0.0/8', '10.255.0.1')).toBe(true);
    expect(cidrContainsIP('10.0.0.0/8', '11.0.0.1')).toBe(false);
    expect(cidrContainsIP('10.0.0.1/8', '10.2.3.4')).toBe(true);
    expect(cidrContainsIP('0.0.0.0/0', '1.2.3.4')).toBe(true);
    expect(cidrContainsIP('fd00::/64', 'fd00::5')).toBe(true);
    expect(cidrContainsIP('fd00::/64', 'fd01::5')).toBe(false);
    expect(cidrContainsIP('10.0.0.0/8', 'fd00::1')).toBe(false); // family mismatch
    expect(cidrContainsIP('bad', '10.0.0.1')).toBe(false);
    expect(cidrContainsIP('10.0.0.0/8', 'bad')).toBe(false);
  });

  it('containsCIDR and overlap', () => {
    expect(cidrContainsCIDR('10.0.0.0/8', '10.1.0.0/16')).toBe(true);
    expect(cidrContainsCIDR('10.1.0.0/16', '10.0.0.0/8')).toBe(false);
    expect(cidrContainsCIDR('10.1.0.0/16', '10.1.0.0/16')).toBe(true);
    expect(cidrsOverlap('10.1.0.0/16', '10.0.0.0/8')).toBe(true);
    expect(cidrsOverlap('10.0.0.0/8', '10.1.0.0/16')).toBe(true);
    expect(cidrsOverlap('10.1.0.0/16', '10.2.0.0/16')).toBe(false);
    expect(cidrsOverlap('10.1.0.0/24', '10.1.0.128/25')).toBe(true);
    expect(cidrsOverlap('10.0.0.0/8', 'fd00::/8')).toBe(false);
    expect(cidrsOverlap('fd00::/8', 'fd12:3456::/32')).toBe(true);
    expect(cidrsOverlap('bad', '10.0.0.0/8')).toBe(false);
  });
});
