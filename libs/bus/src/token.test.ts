import { describe, expect, it } from 'vitest';
import { ANY, assertToken, assertTokenOrWildcard, SubjectTokenError, tokenProblem } from './token.ts';

describe('subject tokens', () => {
  it.each(['a', 'cluster-1', 'Cluster_2', 'x'.repeat(63), '0'])('accepts %j', (t) => {
    expect(tokenProblem(t)).toBeUndefined();
    expect(() => assertToken('cluster', t)).not.toThrow();
  });

  it.each([
    ['', /must not be empty/],
    ['a.b', /must not contain '\.'/],
    ['*', /wildcards/],
    ['a>', /wildcards/],
    ['a b', /whitespace/],
    ['a\tb', /whitespace/],
    ['a\u0000b', /control/],
    ['é', /letters, digits/],
    ['a/b', /letters, digits/],
    ['x'.repeat(64), /at most 63/],
  ])('rejects %j', (t, re) => {
    expect(tokenProblem(t)).toMatch(re);
    expect(() => assertToken('cluster', t)).toThrow(SubjectTokenError);
    expect(() => assertToken('cluster', t)).toThrow(/subject parameter 'cluster'/);
  });

  it('rejects non-strings with the parameter name', () => {
    expect(() => assertToken('peer', undefined)).toThrow("subject parameter 'peer' must be a string (got undefined)");
    expect(() => assertToken('peer', 3)).toThrow(/got number/);
    expect(() => assertToken('peer', null)).toThrow(/got null/);
  });

  it('accepts the wildcard only where asked for', () => {
    expect(() => assertTokenOrWildcard('peer', ANY)).not.toThrow();
    expect(() => assertToken('peer', ANY)).toThrow(SubjectTokenError);
    expect(() => assertTokenOrWildcard('peer', '>')).toThrow(SubjectTokenError);
  });
});
