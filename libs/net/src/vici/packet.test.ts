import { describe, expect, it } from 'vitest';
import { ViciProtocolError } from './errors.ts';
import { decodePacket, encodePacket, MAX_SEGMENT_BYTES, SegmentReader, type ViciOutgoingPacket } from './packet.ts';

function roundTrip(packet: ViciOutgoingPacket) {
  const wire = encodePacket(packet);
  expect(wire.readUInt32BE(0)).toBe(wire.length - 4);
  const segments = new SegmentReader().push(wire);
  expect(segments).toHaveLength(1);
  return decodePacket(segments[0]!);
}

describe('VICI packets', () => {
  it('encodes a named request as length, type, name length, name, message', () => {
    const wire = encodePacket({ type: 'CMD_REQUEST', name: 'version' });
    expect([...wire]).toEqual([0, 0, 0, 9, 0, 7, ...Buffer.from('version')]);
  });

  it('round-trips every packet type', () => {
    expect(roundTrip({ type: 'CMD_REQUEST', name: 'list-sas', message: { noblock: 'yes' } })).toEqual({ type: 'CMD_REQUEST', name: 'list-sas', message: { noblock: 'yes' } });
    expect(roundTrip({ type: 'CMD_RESPONSE', message: { success: 'yes' } })).toEqual({ type: 'CMD_RESPONSE', message: { success: 'yes' } });
    expect(roundTrip({ type: 'CMD_UNKNOWN' })).toEqual({ type: 'CMD_UNKNOWN' });
    expect(roundTrip({ type: 'EVENT_REGISTER', name: 'ike-updown' })).toEqual({ type: 'EVENT_REGISTER', name: 'ike-updown' });
    expect(roundTrip({ type: 'EVENT_UNREGISTER', name: 'ike-updown' })).toEqual({ type: 'EVENT_UNREGISTER', name: 'ike-updown' });
    expect(roundTrip({ type: 'EVENT_CONFIRM' })).toEqual({ type: 'EVENT_CONFIRM' });
    expect(roundTrip({ type: 'EVENT_UNKNOWN' })).toEqual({ type: 'EVENT_UNKNOWN' });
    expect(roundTrip({ type: 'EVENT', name: 'list-sa', message: { 'gw-b': { state: 'ESTABLISHED', 'child-sas': {} } } })).toEqual({
      type: 'EVENT',
      name: 'list-sa',
      message: { 'gw-b': { state: 'ESTABLISHED', 'child-sas': {} } },
    });
  });

  it('rejects bad names and oversized packets when encoding', () => {
    expect(() => encodePacket({ type: 'CMD_REQUEST', name: '' })).toThrow(ViciProtocolError);
    expect(() => encodePacket({ type: 'CMD_REQUEST', name: 'has space' })).toThrow(/printable ASCII/);
    const big = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'x'.repeat(60_000)]));
    expect(() => encodePacket({ type: 'CMD_REQUEST', name: 'load-conn', message: big })).toThrow(/limit is 524288/);
  });

  it('rejects malformed packets with clear errors', () => {
    expect(() => decodePacket(Buffer.alloc(0))).toThrow(/empty segment/);
    expect(() => decodePacket(Buffer.of(8))).toThrow(/unknown packet type 8/);
    expect(() => decodePacket(Buffer.of(0))).toThrow(/CMD_REQUEST packet: missing name length/);
    expect(() => decodePacket(Buffer.of(7, 0))).toThrow(/empty name/);
    expect(() => decodePacket(Buffer.of(7, 5, 0x61))).toThrow(/name of 5 bytes runs past the end/);
    expect(() => decodePacket(Buffer.of(5, 1))).toThrow(/EVENT_CONFIRM packet: 1 unexpected trailing bytes/);
    expect(() => decodePacket(Buffer.of(1, 9))).toThrow(/in VICI CMD_RESPONSE packet: malformed VICI message at byte 0: unknown element type 9/);
    expect(() => decodePacket(Buffer.of(7, 1, 0x65, 2))).toThrow(/EVENT 'e'.*section end without/);
  });
});

describe('SegmentReader', () => {
  const wire = Buffer.concat([
    encodePacket({ type: 'CMD_RESPONSE', message: { a: '1' } }),
    encodePacket({ type: 'EVENT', name: 'list-sa', message: { b: { c: ['d'] } } }),
    encodePacket({ type: 'EVENT_CONFIRM' }),
  ]);

  it('reassembles segments fed one byte at a time', () => {
    const reader = new SegmentReader();
    const out: Buffer[] = [];
    for (const byte of wire) out.push(...reader.push(Buffer.of(byte)));
    expect(out.map((s) => decodePacket(s).type)).toEqual(['CMD_RESPONSE', 'EVENT', 'EVENT_CONFIRM']);
    expect(reader.pending).toBe(0);
  });

  it('reassembles segments from every split point', () => {
    for (let cut = 0; cut <= wire.length; cut++) {
      const reader = new SegmentReader();
      const out = [...reader.push(wire.subarray(0, cut)), ...reader.push(wire.subarray(cut))];
      expect(out.map((s) => decodePacket(s).type)).toEqual(['CMD_RESPONSE', 'EVENT', 'EVENT_CONFIRM']);
    }
  });

  it('holds a partial frame until the rest arrives', () => {
    const reader = new SegmentReader();
    expect(reader.push(wire.subarray(0, 3))).toEqual([]);
    expect(reader.pending).toBe(3);
    expect(reader.push(wire.subarray(3, 6))).toEqual([]);
  });

  it('rejects a length header beyond the segment limit', () => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(MAX_SEGMENT_BYTES + 1, 0);
    expect(() => new SegmentReader().push(header)).toThrow(/exceeds the limit of 524288 bytes/);
  });
});
