import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildCustomResourceDefinitions } from './crd/build.ts';
import { COMBINED_FILE, renderCrdFiles } from './crd/render.ts';
import type { JSONSchemaProps } from './schema/structural.ts';

const CRD_DIR = resolve(import.meta.dirname, '..', 'crds');
const STALE = 'libs/api/crds is stale: run `npm run generate` and commit the result';

describe('generated CRD files', () => {
  it('match the schemas (fails when libs/api/crds is stale)', () => {
    const files = renderCrdFiles();
    for (const file of files) {
      const path = join(CRD_DIR, file.name);
      expect(existsSync(path), `${STALE} (${file.name} is missing)`).toBe(true);
      expect(readFileSync(path, 'utf8'), `${STALE} (${file.name} differs)`).toBe(file.content);
    }
    const extra = readdirSync(CRD_DIR).filter((n) => n.endsWith('.yaml') && !files.some((f) => f.name === n));
    expect(extra, `${STALE} (files no longer generated)`).toEqual([]);
  });

  it('all.yaml holds every CRD and parses back to the built objects', () => {
    const combined = renderCrdFiles().find((f) => f.name === COMBINED_FILE)!;
    const documents = parseAllDocuments(combined.content).map((d) => d.toJS() as unknown);
    expect(documents).toEqual(buildCustomResourceDefinitions());
  });
});

function walk(schema: JSONSchemaProps, path: string, visit: (node: JSONSchemaProps, path: string) => void): void {
  visit(schema, path);
  for (const [name, sub] of Object.entries((schema['properties'] ?? {}) as Record<string, JSONSchemaProps>)) {
    walk(sub, `${path}.${name}`, visit);
  }
  if (schema['items']) walk(schema['items'] as JSONSchemaProps, `${path}[]`, visit);
  if (typeof schema['additionalProperties'] === 'object') walk(schema['additionalProperties'] as JSONSchemaProps, `${path}{}`, visit);
}

/** Follows a printer-column JSONPath (`.status.conditions[?(@.type=="Ready")].status`) through the schema. */
function resolveJsonPath(root: JSONSchemaProps, jsonPath: string): JSONSchemaProps | undefined {
  let node: JSONSchemaProps | undefined = root;
  for (const part of jsonPath.replace(/\[\?\(.*?\)\]/g, '[]').split('.').slice(1)) {
    const name = part.replace('[]', '');
    node = (node?.['properties'] as Record<string, JSONSchemaProps> | undefined)?.[name];
    if (part.endsWith('[]')) node = node?.['items'] as JSONSchemaProps | undefined;
  }
  return node;
}

describe.each(buildCustomResourceDefinitions().map((crd) => [crd.spec.names.kind, crd] as const))('%s CRD', (_kind, crd) => {
  const version = crd.spec.versions[0]!;
  const root = version.schema.openAPIV3Schema;

  it('is namespaced, named <plural>.<group>, with a status subresource', () => {
    expect(crd.metadata.name).toBe(`${crd.spec.names.plural}.net.strait.io`);
    expect(crd.spec.scope).toBe('Namespaced');
    expect(version).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
  });

  it('has printer columns that point at real fields, ending with Age', () => {
    const columns = version.additionalPrinterColumns;
    expect(columns.at(-1)).toEqual({ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' });
    for (const column of columns.slice(0, -1)) {
      expect(resolveJsonPath(root, String(column['jsonPath'])), `column ${String(column['name'])}`).toBeDefined();
    }
  });

  it('bounds every list and string so the CEL cost estimator can price the rules', () => {
    const unbounded: string[] = [];
    walk(root, crd.spec.names.kind, (node, path) => {
      if (path.endsWith('.metadata')) return;
      if (node['type'] === 'array' && node['maxItems'] === undefined) unbounded.push(`${path} (maxItems)`);
      const exempt = node['enum'] !== undefined || node['format'] === 'date-time' || /\.(apiVersion|kind)$/.test(path);
      if (node['type'] === 'string' && node['maxLength'] === undefined && !exempt) unbounded.push(`${path} (maxLength)`);
    });
    expect(unbounded).toEqual([]);
  });

  it('gives every CEL rule a message or messageExpression', () => {
    walk(root, crd.spec.names.kind, (node, path) => {
      for (const rule of (node['x-kubernetes-validations'] ?? []) as Array<Record<string, unknown>>) {
        expect(rule['message'] ?? rule['messageExpression'], `${path}: ${String(rule['rule'])}`).toBeDefined();
      }
    });
  });
});
