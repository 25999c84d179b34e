import { describe, expect, it } from 'vitest';
import { canonicalIp, parsePrefix, prefixContains, prefixesOverlap } from './cidr.ts';

describe('prefixes', () => {
  it('parses and canonicalises IPv4 and IPv6', () => {
    expect(parsePrefix('10.1.0.0/16')?.text).toBe('10.1.0.0/16');
    expect(parsePrefix('10.1.2.3')?.text).toBe('10.1.2.3/32');
    expect(parsePrefix('FD00:0:0::/64')?.text).toBe('fd00::/64');
    expect(parsePrefix('2001:db8:0:0:1:0:0:1/128')?.text).toBe('2001:db8::1:0:0:1/128');
    expect(parsePrefix('::ffff:10.0.0.1/128')?.text).toBe('::ffff:a00:1/128');
    expect(canonicalIp('2001:0db8::0001')).toBe('2001:db8::1');
  });

  it('rejects host bits, bad lengths and garbage unless lenient', () => {
    expect(parsePrefix('10.1.0.1/16')).toBeUndefined();
    expect(parsePrefix('10.1.0.1/16', true)?.text).toBe('10.1.0.0/16');
    for (const bad of ['10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/1/2', 'x/8', '', '::/129', '10.0.0.0/ 8']) expect(parsePrefix(bad)).toBeUndefined();
  });

  it('detects overlap and containment', () => {
    const p = (t: string) => parsePrefix(t)!;
    expect(prefixesOverlap(p('10.0.0.0/8'), p('10.2.0.0/24'))).toBe(true);
    expect(prefixesOverlap(p('10.2.0.0/24'), p('10.3.0.0/24'))).toBe(false);
    expect(prefixesOverlap(p('0.0.0.0/0'), p('192.0.2.0/24'))).toBe(true);
    expect(prefixesOverlap(p('10.0.0.0/8'), p('fd00::/8'))).toBe(false);
    expect(prefixContains(p('10.2.0.0/24'), '10.2.0.255')).toBe(true);
    expect(prefixContains(p('10.2.0.0/24'), '10.2.1.0')).toBe(false);
    expect(prefixContains(p('fd00::/64'), 'fd00::1')).toBe(true);
  });
});
