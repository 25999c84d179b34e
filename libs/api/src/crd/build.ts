/** Builds apiextensions.k8s.io/v1 CustomResourceDefinitions from the resource definitions. */
import { RESOURCE_DEFINITIONS } from '../resources/all.ts';
import type { ResourceDefinition } from '../resources/definition.ts';
import { toStructuralSchema, type JSONSchemaProps } from '../schema/structural.ts';

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames?: string[]; categories: string[] };
    scope: 'Namespaced' | 'Cluster';
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: Array<Record<string, unknown>>;
      schema: { openAPIV3Schema: JSONSchemaProps };
    }>;
  };
}

/** The CRD object of one kind. */
export function buildCustomResourceDefinition(definition: ResourceDefinition): CustomResourceDefinition {
  const { descriptor } = definition;
  const kind = descriptor.kind;
  const root: JSONSchemaProps = {
    description: definition.description,
    type: 'object',
    required: definition.specRequired ? ['spec'] : undefined,
    properties: {
      apiVersion: { description: 'Versioned schema of this object.', type: 'string' },
      kind: { description: 'REST resource this object represents.', type: 'string' },
      metadata: { type: 'object' },
      spec: toStructuralSchema(definition.spec, `${kind}.spec`),
      status: toStructuralSchema(definition.status, `${kind}.status`),
    },
  };
  if (root['required'] === undefined) delete root['required'];
  const names: CustomResourceDefinition['spec']['names'] = {
    kind,
    listKind: definition.listKind,
    plural: descriptor.plural,
    singular: definition.singular,
    categories: [...definition.categories],
  };
  if (definition.shortNames?.length) names.shortNames = [...definition.shortNames];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${descriptor.plural}.${descriptor.group}`,
      labels: { 'app.kubernetes.io/part-of': 'strait' },
    },
    spec: {
      group: descriptor.group,
      names,
      scope: descriptor.namespaced ? 'Namespaced' : 'Cluster',
      versions: [
        {
          name: descriptor.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: definition.printerColumns.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: root },
        },
      ],
    },
  };
}

/** The CRDs of every Strait kind. */
export function buildCustomResourceDefinitions(): CustomResourceDefinition[] {
  return RESOURCE_DEFINITIONS.map(buildCustomResourceDefinition);
}
