import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { withRules } from './rules.ts';
import { createValidator } from './validator.ts';

const Item = Type.Object({ id: Type.String(), n: Type.Integer({ minimum: 0 }) });
const Thing = withRules(
  Type.Object({
    name: Type.String({ maxLength: 5 }),
    items: Type.Array(Item, { maxItems: 4, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['id'] }),
    labels: Type.Optional(Type.Object({}, { additionalProperties: withRules(Type.String(), [{ rule: "self != ''", message: 'must not be empty', check: (v, report) => (v === '' ? report('must not be empty') : undefined) }]) })),
  }),
  [
    {
      rule: 'self.items.all(i, i.n < 10)',
      message: 'n must be below 10',
      fieldPath: '.items',
      check: (self, report) =>
        self.items.forEach((item, i) => {
          if (item.n >= 10) report('n must be below 10', `.items[${i}].n`);
        }),
    },
    {
      rule: "self.name != 'boom'",
      check: (self) => {
        if (self.name === 'boom') throw new Error('bug');
      },
    },
    { rule: 'self == oldSelf' }, // transition rule: API server only
  ],
);
const validate = createValidator(Thing, 'spec');

describe('createValidator', () => {
  it('returns a typed, pruned copy of valid input', () => {
    const input = { name: 'a', items: [{ id: 'x', n: 1, junk: true }], other: 1 };
    const result = validate(input);
    expect(result).toEqual({ ok: true, value: { name: 'a', items: [{ id: 'x', n: 1 }] } });
    expect(input.items[0]!.junk).toBe(true);
  });

  it('reports schema errors with dotted paths and indexes', () => {
    const result = validate({ name: 'toolong', items: [{ id: 'x', n: -1 }, { n: 'z' }] });
    expect(result).toEqual({
      ok: false,
      errors: expect.arrayContaining([
        'spec.name: must not have more than 5 characters',
        'spec.items[0].n: must be >= 0 (got -1)',
        'spec.items[1].id: required field is missing',
        'spec.items[1].n: must be integer (got "z")',
      ]),
    });
  });

  it('runs rule mirrors with their relative paths, and map values too', () => {
    expect(validate({ name: 'a', items: [{ id: 'x', n: 12 }], labels: { a: 'ok', b: '' } })).toEqual({
      ok: false,
      errors: ['spec.labels["b"]: must not be empty', 'spec.items[0].n: n must be below 10'],
    });
  });

  it('reports list-map duplicates', () => {
    expect(validate({ name: 'a', items: [{ id: 'x', n: 1 }, { id: 'x', n: 2 }] })).toEqual({
      ok: false,
      errors: ['spec.items[1]: duplicate entry with id="x"'],
    });
  });

  it('turns a throwing rule mirror into an error instead of crashing', () => {
    expect(validate({ name: 'boom', items: [] })).toEqual({ ok: false, errors: ['spec: could not be validated (bug)'] });
  });

  it('handles hostile input without throwing', () => {
    for (const input of [undefined, null, 1, 'x', [], { items: null }, { name: 1, items: [null, 1, 'x'] }]) {
      const result = validate(input);
      expect(result.ok).toBe(false);
    }
    const cyclic: Record<string, unknown> = { name: 'a', items: [] };
    cyclic['self'] = cyclic;
    expect(validate(cyclic).ok).toBe(true); // pruned away
    expect(validate({ name: 'a', items: [], f: () => 1 })).toEqual({ ok: false, errors: [expect.stringMatching(/^spec: not a plain JSON value/)] });
  });
});
