/**
 * TypeBox schema → Kubernetes structural OpenAPI v3 schema (CRD `openAPIV3Schema`).
 *
 * TypeBox schemas are JSON Schema 2020-12; a CRD schema is a restricted OpenAPI 3.0 dialect.
 * The conversion keeps what Kubernetes understands and fails loudly on anything that would make
 * the CRD non-structural or be rejected, so a bad schema is caught by the generator and the unit
 * tests rather than by the API server.
 */

export type JSONSchemaProps = Record<string, unknown>;

/** Keywords kept as they are (in this order in the output). */
const KEPT = [
  'description',
  'type',
  'format',
  'enum',
  'default',
  'nullable',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'required',
  'properties',
  'additionalProperties',
  'items',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
] as const;

/** Keywords with no meaning for Kubernetes: dropped silently. */
const DROPPED = new Set(['$id', '$schema', '$comment', 'title', 'examples']);

/** Keywords Kubernetes rejects or that break structural schemas, with what to use instead. */
const REJECTED: Record<string, string> = {
  const: 'use enum with one value',
  anyOf: 'use optional members plus a CEL rule',
  oneOf: 'use optional members plus a CEL rule',
  allOf: 'merge the schemas',
  not: 'use a CEL rule',
  patternProperties: 'use additionalProperties',
  uniqueItems: 'use x-kubernetes-list-type: set or map',
  exclusiveMinimum: 'use minimum',
  exclusiveMaximum: 'use maximum',
  $ref: 'inline the schema',
  $defs: 'inline the schema',
  definitions: 'inline the schema',
  prefixItems: 'use items',
  if: 'use a CEL rule',
  then: 'use a CEL rule',
  else: 'use a CEL rule',
  dependentRequired: 'use a CEL rule',
  dependentSchemas: 'use a CEL rule',
  unevaluatedProperties: 'not supported',
  propertyNames: 'not supported',
  contains: 'use a CEL rule',
};

const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

export class StructuralSchemaError extends Error {
  override name = 'StructuralSchemaError';
}

function convert(node: unknown, path: string): JSONSchemaProps {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) {
    throw new StructuralSchemaError(`${path}: schema must be an object`);
  }
  const input = node as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (DROPPED.has(key) || (KEPT as readonly string[]).includes(key)) continue;
    const advice = REJECTED[key];
    throw new StructuralSchemaError(
      advice ? `${path}: keyword ${key} is not allowed in a CRD schema (${advice})` : `${path}: unknown keyword ${key}`,
    );
  }
  const type = input['type'];
  const untyped = input['x-kubernetes-int-or-string'] === true || input['x-kubernetes-preserve-unknown-fields'] === true;
  if (type === undefined && !untyped) throw new StructuralSchemaError(`${path}: every node needs a type`);
  if (type !== undefined && (typeof type !== 'string' || !TYPES.has(type))) {
    throw new StructuralSchemaError(`${path}: type must be one of ${[...TYPES].join(', ')} (got ${JSON.stringify(type)})`);
  }
  if (type === 'array' && input['items'] === undefined) throw new StructuralSchemaError(`${path}: an array needs items`);
  const hasProperties = input['properties'] !== undefined;
  const additional = input['additionalProperties'];
  if (hasProperties && additional !== undefined && additional !== false) {
    throw new StructuralSchemaError(`${path}: properties and additionalProperties cannot be used together`);
  }
  if (input['x-kubernetes-list-type'] === 'map') {
    const keys = input['x-kubernetes-list-map-keys'];
    const items = input['items'] as Record<string, unknown> | undefined;
    const required = (items?.['required'] ?? []) as string[];
    if (!Array.isArray(keys) || keys.length === 0) throw new StructuralSchemaError(`${path}: list-type map needs list-map-keys`);
    for (const key of keys as string[]) {
      if (!required.includes(key)) throw new StructuralSchemaError(`${path}: list-map key ${key} must be a required field of the items`);
    }
  }

  const out: JSONSchemaProps = {};
  for (const key of KEPT) {
    const value = input[key];
    if (value === undefined) continue;
    switch (key) {
      case 'properties': {
        const properties: Record<string, JSONSchemaProps> = {};
        for (const [name, sub] of Object.entries(value as Record<string, unknown>)) {
          properties[name] = convert(sub, `${path}.${name}`);
        }
        out[key] = properties;
        break;
      }
      case 'items':
        out[key] = convert(value, `${path}[]`);
        break;
      case 'additionalProperties':
        // `false` is what pruning already does for structural schemas; Kubernetes rejects it.
        if (value === false) break;
        out[key] = value === true ? true : convert(value, `${path}{}`);
        break;
      case 'required':
        if (Array.isArray(value) && value.length > 0) out[key] = [...value];
        break;
      case 'x-kubernetes-validations':
        // Only the CRD fields: the TypeScript mirrors are non-enumerable and stay behind.
        out[key] = (value as Array<Record<string, unknown>>).map((rule) => JSON.parse(JSON.stringify(rule)) as unknown);
        break;
      default:
        out[key] = JSON.parse(JSON.stringify(value)) as unknown;
    }
  }
  return out;
}

/** Converts a (TypeBox) JSON schema to a structural CRD schema; throws StructuralSchemaError when it cannot. */
export function toStructuralSchema(schema: unknown, path = 'schema'): JSONSchemaProps {
  return convert(schema, path);
}
