import { describe, expect, it } from 'vitest';
import { ViciProtocolError } from './errors.ts';
import { decodeMessage, encodeMessage, MAX_VALUE_BYTES } from './message.ts';

const bytes = (...parts: (number | string)[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'number' ? Buffer.of(p) : Buffer.from(p, 'ascii'))));

describe('VICI message codec', () => {
  it('encodes the protocol description example byte for byte', () => {
    const encoded = encodeMessage({ key1: 'value1', section1: { 'sub-section': { key2: 'value2' }, list1: ['item1', 'item2'] } });
    const expected = bytes(
      3, 4, 'key1', 0, 6, 'value1',
      1, 8, 'section1',
      1, 11, 'sub-section',
      3, 4, 'key2', 0, 6, 'value2',
      2,
      4, 5, 'list1',
      5, 0, 5, 'item1',
      5, 0, 5, 'item2',
      6,
      2,
    );
    expect(encoded.equals(expected)).toBe(true);
    expect(decodeMessage(expected)).toEqual({ key1: 'value1', section1: { 'sub-section': { key2: 'value2' }, list1: ['item1', 'item2'] } });
  });

  it('round-trips nested sections, empty sections, empty lists and empty values', () => {
    const tree = {
      'cluster-b': {
        version: '2',
        local_addrs: ['192.0.2.1'],
        remote_addrs: ['192.0.2.2', '198.51.100.7'],
        local: { auth: 'psk', id: 'cluster-a' },
        children: { 'cluster-b': { local_ts: ['10.1.0.0/16'], remote_ts: [], start_action: '' } },
        empty: {},
      },
      a: { b: { c: { d: { e: { f: 'deep' } } } } },
    };
    expect(decodeMessage(encodeMessage(tree))).toEqual(tree);
  });

  it('converts numbers, booleans and buffers, and skips undefined', () => {
    const decoded = decodeMessage(encodeMessage({ timeout: 5000, force: true, noblock: false, raw: Buffer.from('x'), skipped: undefined, list: [1, true] }));
    expect(decoded).toEqual({ timeout: '5000', force: 'yes', noblock: 'no', raw: 'x', list: ['1', 'yes'] });
  });

  it('keeps keys in insertion order (auth rounds and children are ordered)', () => {
    const decoded = decodeMessage(encodeMessage({ zeta: '1', alpha: '2', 'local-2': { a: 'b' }, 'local-1': { a: 'c' } }));
    expect(Object.keys(decoded)).toEqual(['zeta', 'alpha', 'local-2', 'local-1']);
  });

  it('treats __proto__ as a plain key', () => {
    const decoded = decodeMessage(bytes(3, 9, '__proto__', 0, 1, 'x'));
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value).toBe('x');
  });

  it('rejects values and names over the limits, naming the path', () => {
    expect(() => encodeMessage({ s: { big: 'x'.repeat(MAX_VALUE_BYTES + 1) } })).toThrow(/'s.big' is 65536 bytes/);
    expect(() => encodeMessage({ ['k'.repeat(256)]: 'v' })).toThrow(ViciProtocolError);
    expect(() => encodeMessage({ '': 'v' })).toThrow(/empty/);
    expect(() => encodeMessage({ l: [{ nested: 'no' } as never] })).toThrow(/lists cannot nest/);
    expect(() => encodeMessage({ n: Number.NaN })).toThrow(/finite/);
  });

  it('never quotes a value in an encoding error', () => {
    const secret = 'super-secret-psk-value';
    try {
      encodeMessage({ data: secret + 'x'.repeat(MAX_VALUE_BYTES) });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
    }
  });

  describe('malformed input', () => {
    const cases: [string, Buffer, RegExp][] = [
      ['unknown element type', bytes(9), /byte 0: unknown element type 9/],
      ['truncated name length', bytes(3), /truncated name length/],
      ['name past the end', bytes(3, 10, 'abc'), /name of 10 bytes runs past the end/],
      ['empty name', bytes(1, 0), /empty element name/],
      ['truncated value length', bytes(3, 1, 'k', 0), /truncated value length/],
      ['value past the end', bytes(3, 1, 'k', 0, 9, 'abc'), /value of 9 bytes runs past the end/],
      ['unclosed section', bytes(1, 1, 's', 3, 1, 'k', 0, 1, 'v'), /section 's' is not closed/],
      ['unclosed list', bytes(4, 1, 'l', 5, 0, 1, 'v'), /list 'l' is not closed/],
      ['section end at root', bytes(2), /section end without an open section/],
      ['list item outside list', bytes(5, 0, 1, 'v'), /list item outside a list/],
      ['list end without list', bytes(6), /list end without an open list/],
      ['key/value inside list', bytes(4, 1, 'l', 3, 1, 'k', 0, 1, 'v', 6), /key\/value inside list 'l'/],
      ['nested list', bytes(4, 1, 'l', 4, 1, 'm', 6, 6), /lists cannot nest/],
      ['section inside list', bytes(4, 1, 'l', 1, 1, 's', 2, 6), /section start inside list/],
      ['duplicate key', bytes(3, 1, 'k', 0, 1, 'a', 3, 1, 'k', 0, 1, 'b'), /duplicate key 'k'/],
    ];
    it.each(cases)('%s', (_name, input, pattern) => {
      expect(() => decodeMessage(input)).toThrow(ViciProtocolError);
      expect(() => decodeMessage(input)).toThrow(pattern);
    });

    it('does not leak a value into the error', () => {
      const input = bytes(3, 4, 'data', 0, 6, 'hunter', 3, 4, 'data', 0, 6, 'hunter');
      expect(() => decodeMessage(input)).toThrow(/duplicate key 'data'/);
      expect(() => decodeMessage(input)).not.toThrow(/hunter/);
    });

    it('bounds nesting depth', () => {
      const deep = Buffer.concat([...Array.from({ length: 100 }, () => bytes(1, 1, 's')), ...Array.from({ length: 100 }, () => bytes(2))]);
      expect(() => decodeMessage(deep)).toThrow(/nest deeper/);
    });
  });
});
