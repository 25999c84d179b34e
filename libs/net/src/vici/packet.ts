import { ViciProtocolError } from './errors.ts';
import { decodeMessage, encodeMessage, type ViciInput, type ViciSection } from './message.ts';

/**
 * The VICI packet and transport layers.
 *
 * Transport: every packet travels as a 32-bit big-endian length (of the data only) followed by the data;
 * charon limits a segment to 512 KiB. Packet: the first data byte is the packet type; named types follow
 * it with an 8-bit name length and the ASCII name; the remainder is the message (if the type has one).
 */
export const PacketType = {
  CMD_REQUEST: 0,
  CMD_RESPONSE: 1,
  CMD_UNKNOWN: 2,
  EVENT_REGISTER: 3,
  EVENT_UNREGISTER: 4,
  EVENT_CONFIRM: 5,
  EVENT_UNKNOWN: 6,
  EVENT: 7,
} as const;
export type PacketTypeName = keyof typeof PacketType;

export const MAX_SEGMENT_BYTES = 512 * 1024;

export type ViciPacket =
  | { readonly type: 'CMD_REQUEST'; readonly name: string; readonly message: ViciSection }
  | { readonly type: 'CMD_RESPONSE'; readonly message: ViciSection }
  | { readonly type: 'CMD_UNKNOWN' }
  | { readonly type: 'EVENT_REGISTER'; readonly name: string }
  | { readonly type: 'EVENT_UNREGISTER'; readonly name: string }
  | { readonly type: 'EVENT_CONFIRM' }
  | { readonly type: 'EVENT_UNKNOWN' }
  | { readonly type: 'EVENT'; readonly name: string; readonly message: ViciSection };

/** A packet to send: messages may use the looser encoder input (numbers, booleans, buffers). */
export type ViciOutgoingPacket =
  | { readonly type: 'CMD_REQUEST'; readonly name: string; readonly message?: ViciInput }
  | { readonly type: 'CMD_RESPONSE'; readonly message?: ViciInput }
  | { readonly type: 'CMD_UNKNOWN' }
  | { readonly type: 'EVENT_REGISTER'; readonly name: string }
  | { readonly type: 'EVENT_UNREGISTER'; readonly name: string }
  | { readonly type: 'EVENT_CONFIRM' }
  | { readonly type: 'EVENT_UNKNOWN' }
  | { readonly type: 'EVENT'; readonly name: string; readonly message?: ViciInput };

const NAMED = new Set<PacketTypeName>(['CMD_REQUEST', 'EVENT_REGISTER', 'EVENT_UNREGISTER', 'EVENT']);
const WITH_MESSAGE = new Set<PacketTypeName>(['CMD_REQUEST', 'CMD_RESPONSE', 'EVENT']);
const TYPE_NAMES: readonly PacketTypeName[] = Object.keys(PacketType) as PacketTypeName[];

/** Encodes one packet including its 4-byte length header, ready for the socket. */
export function encodePacket(packet: ViciOutgoingPacket): Buffer {
  const head: Buffer[] = [Buffer.of(PacketType[packet.type])];
  if ('name' in packet) {
    const name = Buffer.from(packet.name, 'ascii');
    if (name.length === 0 || name.length > 255 || !/^[\x21-\x7e]+$/.test(packet.name)) {
      throw new ViciProtocolError(`VICI ${packet.type} name must be 1-255 printable ASCII characters`);
    }
    head.push(Buffer.of(name.length), name);
  }
  const body = 'message' in packet && packet.message ? encodeMessage(packet.message) : Buffer.alloc(0);
  const length = head.reduce((n, b) => n + b.length, 0) + body.length;
  if (length > MAX_SEGMENT_BYTES) {
    throw new ViciProtocolError(`VICI ${packet.type} packet is ${length} bytes, the limit is ${MAX_SEGMENT_BYTES}`);
  }
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(length, 0);
  return Buffer.concat([len, ...head, body]);
}

/** Decodes the data of one transport segment (without its length header). */
export function decodePacket(data: Uint8Array): ViciPacket {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length === 0) throw new ViciProtocolError('malformed VICI packet: empty segment');
  const type = TYPE_NAMES[buf[0]!];
  if (type === undefined) throw new ViciProtocolError(`malformed VICI packet: unknown packet type ${buf[0]}`);
  let pos = 1;
  let name = '';
  if (NAMED.has(type)) {
    if (buf.length < 2) throw new ViciProtocolError(`malformed VICI ${type} packet: missing name length`);
    const len = buf[1]!;
    if (len === 0) throw new ViciProtocolError(`malformed VICI ${type} packet: empty name`);
    if (2 + len > buf.length) throw new ViciProtocolError(`malformed VICI ${type} packet: name of ${len} bytes runs past the end`);
    name = buf.toString('ascii', 2, 2 + len);
    pos = 2 + len;
  }
  const rest = buf.subarray(pos);
  if (!WITH_MESSAGE.has(type)) {
    if (rest.length > 0) throw new ViciProtocolError(`malformed VICI ${type} packet: ${rest.length} unexpected trailing bytes`);
  }
  let message: ViciSection = {};
  if (WITH_MESSAGE.has(type)) {
    try {
      message = decodeMessage(rest);
    } catch (err) {
      const what = name ? `${type} '${name}'` : type;
      throw new ViciProtocolError(`in VICI ${what} packet: ${(err as Error).message}`);
    }
  }
  switch (type) {
    case 'CMD_REQUEST':
    case 'EVENT':
      return { type, name, message };
    case 'CMD_RESPONSE':
      return { type, message };
    case 'EVENT_REGISTER':
    case 'EVENT_UNREGISTER':
      return { type, name };
    default:
      return { type };
  }
}

/**
 * Reassembles transport segments from arbitrary socket chunks: push bytes in, get complete segments out.
 * A length header beyond the 512 KiB limit is an error (the stream cannot be resynchronised afterwards).
 */
export class SegmentReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly maxSegment: number;

  constructor(maxSegment = MAX_SEGMENT_BYTES) {
    this.maxSegment = maxSegment;
  }

  /** Bytes held back waiting for the rest of a segment. */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): Buffer[] {
    if (chunk.byteLength > 0) {
      this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.buffered += chunk.byteLength;
    }
    const out: Buffer[] = [];
    while (this.buffered >= 4) {
      const header = this.peek(4);
      const length = header.readUInt32BE(0);
      if (length > this.maxSegment) {
        throw new ViciProtocolError(`VICI segment length ${length} exceeds the limit of ${this.maxSegment} bytes`);
      }
      if (this.buffered < 4 + length) break;
      const whole = this.take(4 + length);
      out.push(whole.subarray(4));
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!.subarray(0, n);
    return Buffer.concat(this.chunks).subarray(0, n);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const all = Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered -= n;
    return out;
  }
}
