import { describe, expect, it } from 'vitest';
import { arrayAt, numberAt, parseResultLine } from './result-line.ts';

describe('parseResultLine', () => {
  it('takes the last non-empty line, after a table and other JSON lines', () => {
    const out = '| a | b |\n|---|---|\n{"bench":"x","n":1}\n{"bench":"summary","n":2}\n\n';
    expect(parseResultLine(out, 's.ts')).toEqual({ bench: 'summary', n: 2 });
  });

  it('names the script and what was wrong', () => {
    expect(() => parseResultLine('', 's.ts')).toThrow('s.ts printed nothing on stdout');
    expect(() => parseResultLine('{"a":1}\ndone\n', 's.ts')).toThrow('s.ts: the last line of stdout is not JSON: "done"');
    expect(() => parseResultLine('[1,2]\n', 's.ts')).toThrow('not a JSON object');
    expect(() => parseResultLine('null\n', 's.ts')).toThrow('not a JSON object');
  });
});

describe('numberAt / arrayAt', () => {
  const r = { nft: { applyAllMs: 412.5, one: { median: 3 } }, rows: [1], bad: 'x' };
  it('reads dotted paths', () => {
    expect(numberAt(r, 'nft.applyAllMs', 's')).toBe(412.5);
    expect(numberAt(r, 'nft.one.median', 's')).toBe(3);
    expect(arrayAt(r, 'rows', 's')).toEqual([1]);
  });
  it('says which path is missing', () => {
    expect(() => numberAt(r, 'nft.nope', 's')).toThrow('s: result has no number at nft.nope (got nothing)');
    expect(() => numberAt(r, 'bad', 's')).toThrow('(got "x")');
    expect(() => arrayAt(r, 'nft', 's')).toThrow('s: result has no list at nft');
  });
});
