/**
 * Encoding (publish side) and decoding (receive side) of bus messages: JSON payloads validated against
 * their subject definition. Decoding never throws: a bad message becomes a `{ ok: false, reason }` result.
 */
import type { Static, TSchema } from 'typebox';
import type { DropReason } from './metrics.ts';
import { paramMismatch, type SubjectDefinition, type SubjectParams } from './subject.ts';

/** Messages above this size are dropped unread (NATS itself allows up to 1 MiB by default). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;

/** Thrown by encodeMessage / Bus.publish for a payload that does not match its subject's schema. */
export class PayloadValidationError extends Error {
  readonly kind: string;
  readonly errors: readonly string[];
  constructor(kind: string, errors: readonly string[]) {
    super(`invalid payload for subject '${kind}': ${errors.join('; ')}`);
    this.name = 'PayloadValidationError';
    this.kind = kind;
    this.errors = errors;
  }
}

export interface EncodedMessage {
  subject: string;
  data: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Builds the subject and the JSON body for a payload. Throws SubjectTokenError for a bad parameter and
 * PayloadValidationError for a bad payload; nothing is sent in either case.
 */
export function encodeMessage<P extends string, S extends TSchema>(
  def: SubjectDefinition<P, S>,
  params: SubjectParams<P>,
  payload: Static<S>,
): EncodedMessage {
  const subject = def.subject(params);
  const checked = def.check(payload);
  if (!checked.ok) throw new PayloadValidationError(def.kind, checked.errors);
  const mismatch = paramMismatch(params, payload);
  if (mismatch !== undefined) throw new PayloadValidationError(def.kind, [mismatch]);
  return { subject, data: encoder.encode(JSON.stringify(payload)) };
}

export type DecodeResult<P extends string, T> =
  | { ok: true; params: SubjectParams<P>; payload: T }
  | { ok: false; reason: Exclude<DropReason, 'handler_error'>; detail: string };

/** Decodes and validates a received message. Never throws. */
export function decodeMessage<P extends string, S extends TSchema>(
  def: SubjectDefinition<P, S>,
  subject: string,
  data: Uint8Array,
  maxBytes: number = DEFAULT_MAX_PAYLOAD_BYTES,
): DecodeResult<P, Static<S>> {
  const params = def.match(subject);
  if (params === undefined) return { ok: false, reason: 'subject_mismatch', detail: `subject ${JSON.stringify(subject)} does not match ${def.template}` };
  if (data.byteLength > maxBytes) return { ok: false, reason: 'too_large', detail: `payload of ${data.byteLength} bytes exceeds ${maxBytes}` };
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch (err) {
    return { ok: false, reason: 'invalid_json', detail: err instanceof Error ? err.message : String(err) };
  }
  const checked = def.check(value);
  if (!checked.ok) return { ok: false, reason: 'schema_mismatch', detail: checked.errors.join('; ') };
  const mismatch = paramMismatch(params, value);
  if (mismatch !== undefined) return { ok: false, reason: 'subject_mismatch', detail: mismatch };
  return { ok: true, params, payload: checked.value as Static<S> };
}
