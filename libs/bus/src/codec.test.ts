import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, PayloadValidationError } from './codec.ts';
import { TunnelStatusSubject } from './subjects.ts';
import { SubjectTokenError } from './token.ts';

const ts = '2026-01-02T03:04:05.678Z';
const payload = { cluster: 'east', peer: 'west', status: 'Connected', rttMs: 1, timestamp: ts } as const;
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('encodeMessage', () => {
  it('produces the subject and a JSON body', () => {
    const m = encodeMessage(TunnelStatusSubject, { cluster: 'east', peer: 'west' }, payload);
    expect(m.subject).toBe('strait.east.tunnel.west.status');
    expect(JSON.parse(new TextDecoder().decode(m.data))).toEqual(payload);
  });

  it('throws on an invalid payload, naming the subject kind and the field', () => {
    const bad = { ...payload, status: 'Up' } as never;
    expect(() => encodeMessage(TunnelStatusSubject, { cluster: 'east', peer: 'west' }, bad)).toThrow(PayloadValidationError);
    expect(() => encodeMessage(TunnelStatusSubject, { cluster: 'east', peer: 'west' }, bad)).toThrow(/'tunnel_status'.*\/status/);
  });

  it('throws when the payload contradicts the subject', () => {
    expect(() => encodeMessage(TunnelStatusSubject, { cluster: 'east', peer: 'north' }, payload)).toThrow(/payload field 'peer'/);
  });

  it('throws on an invalid subject parameter', () => {
    expect(() => encodeMessage(TunnelStatusSubject, { cluster: 'ea st', peer: 'west' }, payload)).toThrow(SubjectTokenError);
  });
});

describe('decodeMessage', () => {
  const subject = 'strait.east.tunnel.west.status';

  it('decodes a valid message with its subject parameters', () => {
    const r = decodeMessage(TunnelStatusSubject, subject, bytes(JSON.stringify(payload)));
    expect(r).toEqual({ ok: true, params: { cluster: 'east', peer: 'west' }, payload });
  });

  it.each([
    ['not json', bytes('{"cluster":'), 'invalid_json'],
    ['empty body', bytes(''), 'invalid_json'],
    ['invalid utf-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'invalid_json'],
    ['json null', bytes('null'), 'schema_mismatch'],
    ['wrong status', bytes(JSON.stringify({ ...payload, status: 'Up' })), 'schema_mismatch'],
    ['missing timestamp', bytes(JSON.stringify({ cluster: 'east', peer: 'west', status: 'Connected' })), 'schema_mismatch'],
    ['peer differs from subject', bytes(JSON.stringify({ ...payload, peer: 'north' })), 'subject_mismatch'],
    ['too large', bytes(JSON.stringify({ ...payload, pad: 'x'.repeat(70_000) })), 'too_large'],
  ])('rejects %s', (_name, data, reason) => {
    const r = decodeMessage(TunnelStatusSubject, subject, data);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      expect(r.detail.length).toBeGreaterThan(0);
    }
  });

  it('rejects a subject of another kind', () => {
    const r = decodeMessage(TunnelStatusSubject, 'strait.east.gateway.leader', bytes(JSON.stringify(payload)));
    expect(r).toMatchObject({ ok: false, reason: 'subject_mismatch' });
  });

  it('honours a custom size limit', () => {
    const r = decodeMessage(TunnelStatusSubject, subject, bytes(JSON.stringify(payload)), 10);
    expect(r).toMatchObject({ ok: false, reason: 'too_large' });
  });
});
