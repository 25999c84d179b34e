import Type from 'typebox';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineSubject, paramMismatch, type PayloadOf, type ParamsOf } from './subject.ts';
import { SubjectTokenError } from './token.ts';

const Def = defineSubject({
  kind: 'sample',
  template: 'strait.{cluster}.tunnel.{peer}.status',
  schema: Type.Object({ cluster: Type.String(), n: Type.Integer({ minimum: 0 }) }),
});

describe('defineSubject', () => {
  it('extracts the parameters from the template, in order and in the types', () => {
    expect(Def.params).toEqual(['cluster', 'peer']);
    expectTypeOf<ParamsOf<typeof Def>>().toEqualTypeOf<'cluster' | 'peer'>();
    expectTypeOf<PayloadOf<typeof Def>>().toEqualTypeOf<{ cluster: string; n: number }>();
  });

  it('builds concrete subjects', () => {
    expect(Def.subject({ cluster: 'east', peer: 'west' })).toBe('strait.east.tunnel.west.status');
  });

  it('refuses invalid, wildcard, missing and unknown parameters when building a subject', () => {
    expect(() => Def.subject({ cluster: 'a.b', peer: 'w' })).toThrow(SubjectTokenError);
    expect(() => Def.subject({ cluster: 'a.b', peer: 'w' })).toThrow(/'cluster' must not contain '\.'/);
    expect(() => Def.subject({ cluster: 'east', peer: '*' })).toThrow(/'peer' must not contain the wildcards/);
    expect(() => Def.subject({ cluster: 'east' } as never)).toThrow(/'peer' must be a string \(got undefined\)/);
    expect(() => Def.subject({ cluster: 'e', peer: 'w', extra: 'x' } as never)).toThrow(/unknown parameter 'extra'/);
    expect(() => Def.subject(null as never)).toThrow(/must be an object/);
  });

  it('builds subscription patterns with wildcards for omitted or * parameters', () => {
    expect(Def.pattern('*')).toBe('strait.*.tunnel.*.status');
    expect(Def.pattern()).toBe('strait.*.tunnel.*.status');
    expect(Def.pattern({})).toBe('strait.*.tunnel.*.status');
    expect(Def.pattern({ cluster: 'east' })).toBe('strait.east.tunnel.*.status');
    expect(Def.pattern({ cluster: '*', peer: 'west' })).toBe('strait.*.tunnel.west.status');
    expect(() => Def.pattern({ cluster: 'a b' })).toThrow(/whitespace/);
    expect(() => Def.pattern({ cluster: '>' })).toThrow(SubjectTokenError);
  });

  it('parses received subjects', () => {
    expect(Def.match('strait.east.tunnel.west.status')).toEqual({ cluster: 'east', peer: 'west' });
    expect(Def.match('strait.east.tunnel.west')).toBeUndefined();
    expect(Def.match('strait.east.gateway.west.status')).toBeUndefined();
    expect(Def.match('strait.east.tunnel.west.status.extra')).toBeUndefined();
    expect(Def.match('strait.*.tunnel.west.status')).toBeUndefined();
  });

  it('validates payloads with readable errors', () => {
    expect(Def.check({ cluster: 'east', n: 1 })).toEqual({ ok: true, value: { cluster: 'east', n: 1 } });
    const bad = Def.check({ cluster: 3, n: -1 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.errors.join('\n')).toMatch(/\/cluster: /);
      expect(bad.errors.join('\n')).toMatch(/\/n: /);
    }
    expect(Def.check('nope').ok).toBe(false);
  });

  it('rejects malformed templates and kinds', () => {
    const schema = Type.Object({});
    expect(() => defineSubject({ kind: 'Bad Kind', template: 'a.b', schema })).toThrow(/subject kind/);
    expect(() => defineSubject({ kind: 'k', template: '', schema })).toThrow(/non-empty/);
    expect(() => defineSubject({ kind: 'k', template: 'a..b', schema })).toThrow(/segment 1/);
    expect(() => defineSubject({ kind: 'k', template: 'a.x{p}.b', schema })).toThrow(/segment 1/);
    expect(() => defineSubject({ kind: 'k', template: 'a.*.b', schema })).toThrow(/segment 1/);
    expect(() => defineSubject({ kind: 'k', template: 'a.{p}.{p}', schema })).toThrow(/appears twice/);
    expect(() => defineSubject({ kind: 'k', template: 'a.{1p}', schema })).toThrow(/invalid parameter name/);
  });
});

describe('paramMismatch', () => {
  it('requires payload fields named like parameters to equal the subject tokens', () => {
    expect(paramMismatch({ cluster: 'a', peer: 'b' }, { cluster: 'a', peer: 'b', x: 1 })).toBeUndefined();
    expect(paramMismatch({ cluster: 'a' }, { other: 'z' })).toBeUndefined();
    expect(paramMismatch({ cluster: 'a', peer: 'b' }, { cluster: 'a', peer: 'c' })).toMatch(/payload field 'peer'/);
    expect(paramMismatch({ cluster: 'a' }, null)).toBeUndefined();
  });
});
