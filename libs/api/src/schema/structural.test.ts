import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { withRules } from './rules.ts';
import { StructuralSchemaError, toStructuralSchema } from './structural.ts';

describe('toStructuralSchema', () => {
  it('keeps types, bounds, descriptions and Kubernetes extensions; drops TypeBox internals', () => {
    const schema = withRules(
      Type.Object(
        {
          name: Type.String({ maxLength: 10, description: 'a name' }),
          tags: Type.Optional(Type.Array(Type.String({ maxLength: 5 }), { maxItems: 3, 'x-kubernetes-list-type': 'set' })),
        },
        { $id: 'Thing', additionalProperties: false },
      ),
      [{ rule: 'self.name != "x"', message: 'name must not be x', check: () => undefined }],
    );
    expect(toStructuralSchema(schema)).toEqual({
      type: 'object',
      required: ['name'],
      properties: {
        name: { description: 'a name', type: 'string', maxLength: 10 },
        tags: { type: 'array', maxItems: 3, items: { type: 'string', maxLength: 5 }, 'x-kubernetes-list-type': 'set' },
      },
      'x-kubernetes-validations': [{ rule: 'self.name != "x"', message: 'name must not be x' }],
    });
  });

  it('writes keys in a stable order', () => {
    const out = toStructuralSchema(Type.String({ pattern: '^a$', description: 'd', maxLength: 3 }));
    expect(Object.keys(out)).toEqual(['description', 'type', 'pattern', 'maxLength']);
  });

  it.each([
    ['const (literal)', Type.Object({ a: Type.Literal('x') }), /schema\.a: keyword const is not allowed in a CRD schema \(use enum/],
    ['anyOf (union)', Type.Object({ a: Type.Union([Type.String(), Type.Number()]) }), /schema\.a: keyword anyOf is not allowed/],
    ['patternProperties (record)', Type.Record(Type.String(), Type.String()), /keyword patternProperties is not allowed.*additionalProperties/],
    ['a node without type', Type.Object({ a: Type.Unknown() }), /schema\.a: every node needs a type/],
    ['bare enum', Type.Object({ a: Type.Enum(['x', 'y']) }), /schema\.a: every node needs a type/],
    ['uniqueItems', Type.Array(Type.String(), { uniqueItems: true }), /uniqueItems is not allowed.*list-type/],
    ['exclusiveMinimum', Type.Integer({ exclusiveMinimum: 0 }), /exclusiveMinimum is not allowed/],
  ])('rejects %s', (_name, schema, message) => {
    expect(() => toStructuralSchema(schema)).toThrow(StructuralSchemaError);
    expect(() => toStructuralSchema(schema)).toThrow(message);
  });

  it('rejects properties together with an additionalProperties schema', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } };
    expect(() => toStructuralSchema(schema)).toThrow(/properties and additionalProperties cannot be used together/);
  });

  it('accepts a string map (additionalProperties without properties)', () => {
    expect(toStructuralSchema({ type: 'object', additionalProperties: { type: 'string', maxLength: 4 } })).toEqual({
      type: 'object',
      additionalProperties: { type: 'string', maxLength: 4 },
    });
  });

  it('checks list-map keys are required fields of the items', () => {
    const items = Type.Object({ key: Type.Optional(Type.String()), v: Type.String() });
    expect(() =>
      toStructuralSchema(Type.Array(items, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['key'] })),
    ).toThrow(/list-map key key must be a required field/);
  });
});
