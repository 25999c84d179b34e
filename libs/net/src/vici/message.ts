import { ViciProtocolError } from './errors.ts';

/**
 * The VICI message layer: a tree of sections holding key/values, lists of values and sub-sections,
 * encoded as a flat sequence of typed elements.
 *
 *   SECTION_START name   SECTION_END   KEY_VALUE name value   LIST_START name   LIST_ITEM value   LIST_END
 *
 * Names carry an 8-bit length, values a 16-bit big-endian length; nothing is NUL-terminated.
 * Values are blobs on the wire; charon only ever sends strings, so decoding yields strings.
 */
export const ElementType = {
  SECTION_START: 1,
  SECTION_END: 2,
  KEY_VALUE: 3,
  LIST_START: 4,
  LIST_ITEM: 5,
  LIST_END: 6,
} as const;

/** A decoded message: every value is a string, every list a string array. */
export interface ViciSection {
  [key: string]: string | string[] | ViciSection;
}

/** What callers may hand to the encoder: numbers and booleans become strings (`yes`/`no`), undefined is skipped. */
export type ViciScalarInput = string | number | boolean | Uint8Array;
export type ViciInputValue = ViciScalarInput | readonly ViciScalarInput[] | ViciInput | undefined;
export interface ViciInput {
  readonly [key: string]: ViciInputValue;
}

export const MAX_NAME_BYTES = 255;
export const MAX_VALUE_BYTES = 65_535;

/** Maximum nesting depth accepted when decoding; charon's own trees are a handful of levels deep. */
export const MAX_DEPTH = 64;

function scalarBytes(value: ViciScalarInput, path: string): Buffer {
  let bytes: Buffer;
  if (typeof value === 'string') bytes = Buffer.from(value, 'utf8');
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ViciProtocolError(`VICI value at '${path}' is not a finite number`);
    bytes = Buffer.from(String(value), 'utf8');
  } else if (typeof value === 'boolean') bytes = Buffer.from(value ? 'yes' : 'no', 'utf8');
  else if (value instanceof Uint8Array) bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  else throw new ViciProtocolError(`VICI value at '${path}' has unsupported type ${typeof value}`);
  if (bytes.length > MAX_VALUE_BYTES) {
    throw new ViciProtocolError(`VICI value at '${path}' is ${bytes.length} bytes, the limit is ${MAX_VALUE_BYTES}`);
  }
  return bytes;
}

function nameBytes(name: string, path: string): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length === 0) throw new ViciProtocolError(`VICI name at '${path}' is empty`);
  if (bytes.length > MAX_NAME_BYTES) {
    throw new ViciProtocolError(`VICI name at '${path}' is ${bytes.length} bytes, the limit is ${MAX_NAME_BYTES}`);
  }
  return bytes;
}

function isScalar(value: unknown): value is ViciScalarInput {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value instanceof Uint8Array;
}

/** Encodes a message tree. Key order is the object's own enumeration order. */
export function encodeMessage(message: ViciInput): Buffer {
  const parts: Buffer[] = [];
  const u16 = (n: number): Buffer => {
    const b = Buffer.allocUnsafe(2);
    b.writeUInt16BE(n, 0);
    return b;
  };
  const walk = (section: ViciInput, prefix: string, depth: number): void => {
    if (depth > MAX_DEPTH) throw new ViciProtocolError(`VICI message nests deeper than ${MAX_DEPTH} sections at '${prefix}'`);
    for (const key of Object.keys(section)) {
      const value = section[key];
      if (value === undefined) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      const name = nameBytes(key, path);
      if (isScalar(value)) {
        const v = scalarBytes(value, path);
        parts.push(Buffer.of(ElementType.KEY_VALUE, name.length), name, u16(v.length), v);
      } else if (Array.isArray(value)) {
        parts.push(Buffer.of(ElementType.LIST_START, name.length), name);
        (value as readonly unknown[]).forEach((item, i) => {
          if (!isScalar(item)) throw new ViciProtocolError(`VICI list '${path}' item ${i} is not a scalar (lists cannot nest)`);
          const v = scalarBytes(item, `${path}[${i}]`);
          parts.push(Buffer.of(ElementType.LIST_ITEM), u16(v.length), v);
        });
        parts.push(Buffer.of(ElementType.LIST_END));
      } else if (value !== null && typeof value === 'object') {
        parts.push(Buffer.of(ElementType.SECTION_START, name.length), name);
        walk(value as ViciInput, path, depth + 1);
        parts.push(Buffer.of(ElementType.SECTION_END));
      } else {
        throw new ViciProtocolError(`VICI value at '${path}' has unsupported type ${value === null ? 'null' : typeof value}`);
      }
    }
  };
  walk(message, '', 0);
  return Buffer.concat(parts);
}

function define(target: ViciSection, key: string, value: string | string[] | ViciSection): void {
  // defineProperty keeps keys such as `__proto__` as plain data instead of touching the prototype.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Decodes a message. Throws ViciProtocolError naming the byte offset for truncated elements, unknown
 * element types, unbalanced sections/lists, items outside lists, key/values inside lists and duplicate keys.
 */
export function decodeMessage(data: Uint8Array): ViciSection {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const root: ViciSection = {};
  const stack: { section: ViciSection; name: string }[] = [{ section: root, name: '' }];
  let list: { name: string; items: string[] } | undefined;
  let pos = 0;

  const fail = (offset: number, what: string): never => {
    throw new ViciProtocolError(`malformed VICI message at byte ${offset}: ${what}`);
  };
  const readName = (start: number): string => {
    if (pos + 1 > buf.length) fail(start, 'truncated name length');
    const len = buf[pos]!;
    pos += 1;
    if (len === 0) fail(start, 'empty element name');
    if (pos + len > buf.length) fail(start, `name of ${len} bytes runs past the end (${buf.length - pos} left)`);
    const name = buf.toString('utf8', pos, pos + len);
    pos += len;
    return name;
  };
  const readValue = (start: number): string => {
    if (pos + 2 > buf.length) fail(start, 'truncated value length');
    const len = buf.readUInt16BE(pos);
    pos += 2;
    if (pos + len > buf.length) fail(start, `value of ${len} bytes runs past the end (${buf.length - pos} left)`);
    const value = buf.toString('utf8', pos, pos + len);
    pos += len;
    return value;
  };
  const current = (): ViciSection => stack[stack.length - 1]!.section;
  const claim = (start: number, name: string): void => {
    if (Object.prototype.hasOwnProperty.call(current(), name)) fail(start, `duplicate key '${name}'`);
  };

  while (pos < buf.length) {
    const start = pos;
    const type = buf[pos]!;
    pos += 1;
    switch (type) {
      case ElementType.SECTION_START: {
        if (list) fail(start, `section start inside list '${list.name}'`);
        const name = readName(start);
        claim(start, name);
        if (stack.length > MAX_DEPTH) fail(start, `sections nest deeper than ${MAX_DEPTH}`);
        const section: ViciSection = {};
        define(current(), name, section);
        stack.push({ section, name });
        break;
      }
      case ElementType.SECTION_END:
        if (list) fail(start, `section end inside list '${list.name}'`);
        if (stack.length === 1) fail(start, 'section end without an open section');
        stack.pop();
        break;
      case ElementType.KEY_VALUE: {
        if (list) fail(start, `key/value inside list '${list.name}'`);
        const name = readName(start);
        const value = readValue(start);
        claim(start, name);
        define(current(), name, value);
        break;
      }
      case ElementType.LIST_START: {
        if (list) fail(start, `list start inside list '${list.name}' (lists cannot nest)`);
        const name = readName(start);
        claim(start, name);
        list = { name, items: [] };
        define(current(), name, list.items);
        break;
      }
      case ElementType.LIST_ITEM: {
        if (!list) fail(start, 'list item outside a list');
        list!.items.push(readValue(start));
        break;
      }
      case ElementType.LIST_END:
        if (!list) fail(start, 'list end without an open list');
        list = undefined;
        break;
      default:
        fail(start, `unknown element type ${type}`);
    }
  }
  if (list) fail(pos, `list '${list.name}' is not closed`);
  if (stack.length > 1) fail(pos, `section '${stack.slice(1).map((s) => s.name).join('.')}' is not closed`);
  return root;
}
