import type { V1ListMeta, V1ObjectMeta } from '@kubernetes/client-node';
import type { Static, TSchema } from 'typebox';
import { API_GROUP_VERSION } from '../constants.ts';
import { createValidator, type Validate, type ValidationResult } from '../schema/validator.ts';

/** Identifies a custom resource kind for clients (see the contracts). */
export interface ResourceDescriptor {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  /** 0: shown by default; 1: only with `-o wide`. */
  priority?: number;
}

/** Everything needed to produce a kind's CRD, types and validators. */
export interface ResourceDefinition<Spec extends TSchema = TSchema, Status extends TSchema = TSchema> {
  descriptor: ResourceDescriptor;
  singular: string;
  listKind: string;
  shortNames?: string[];
  categories: string[];
  /** Shown by `kubectl explain <kind>`. */
  description: string;
  spec: Spec;
  /** Whether `spec` must be present (false for status-only kinds). */
  specRequired: boolean;
  status: Status;
  printerColumns: PrinterColumn[];
}

/** A Strait custom resource object. */
export interface Resource<Kind extends string, Spec, Status> {
  apiVersion: typeof API_GROUP_VERSION;
  kind: Kind;
  metadata: V1ObjectMeta;
  spec: Spec;
  status?: Status;
}

export interface ResourceList<T> {
  apiVersion: typeof API_GROUP_VERSION;
  kind: string;
  metadata: V1ListMeta;
  items: T[];
}

/** Adds the Age column every kind ends with. */
export const AGE_COLUMN: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

const NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Validates a whole object of a kind: apiVersion, kind, metadata.name, spec and (if present) status.
 * Used on objects that come from elsewhere (the Broker, NATS hints, files).
 */
export function createObjectValidator<Spec extends TSchema, Status extends TSchema, T>(
  definition: ResourceDefinition<Spec, Status>,
  validateSpec: Validate<Static<Spec>>,
  validateStatus: Validate<Static<Status>>,
): Validate<T> {
  const { kind } = definition.descriptor;
  return (input: unknown): ValidationResult<T> => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return { ok: false, errors: [`${kind}: must be an object`] };
    }
    let object: Record<string, unknown>;
    try {
      object = structuredClone(input) as Record<string, unknown>;
    } catch (error) {
      return { ok: false, errors: [`${kind}: not a plain JSON value (${(error as Error).message})`] };
    }
    const errors: string[] = [];
    if (object['apiVersion'] !== API_GROUP_VERSION) {
      errors.push(`apiVersion: must be ${API_GROUP_VERSION} (got ${JSON.stringify(object['apiVersion'])})`);
    }
    if (object['kind'] !== kind) errors.push(`kind: must be ${kind} (got ${JSON.stringify(object['kind'])})`);
    const metadata = object['metadata'];
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      errors.push('metadata: must be an object');
    } else {
      const name = (metadata as Record<string, unknown>)['name'];
      if (typeof name !== 'string' || name.length > 253 || !NAME_PATTERN.test(name)) {
        errors.push(`metadata.name: must be a DNS-1123 subdomain (got ${JSON.stringify(name)})`);
      }
    }
    let spec: unknown = object['spec'];
    if (spec !== undefined || definition.specRequired) {
      const result = validateSpec(spec);
      if (result.ok) spec = result.value;
      else errors.push(...result.errors);
    }
    let status: unknown = object['status'];
    if (status !== undefined) {
      const result = validateStatus(status);
      if (result.ok) status = result.value;
      else errors.push(...result.errors);
    }
    if (errors.length > 0) return { ok: false, errors };
    const value: Record<string, unknown> = object;
    if (spec !== undefined) value['spec'] = spec;
    if (status !== undefined) value['status'] = status;
    return { ok: true, value: value as T };
  };
}

/** Validators for the spec and status of a kind, with paths rooted at `spec` / `status`. */
export function createPartValidators<Spec extends TSchema, Status extends TSchema>(definition: {
  spec: Spec;
  status: Status;
}): { spec: Validate<Static<Spec>>; status: Validate<Static<Status>> } {
  return { spec: createValidator(definition.spec, 'spec'), status: createValidator(definition.status, 'status') };
}
