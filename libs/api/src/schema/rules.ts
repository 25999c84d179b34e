import type { Static, TSchema } from 'typebox';

/** Reasons kube-apiserver accepts on an `x-kubernetes-validations` rule. */
export type RuleReason = 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';

/**
 * Reports one violation found by a rule's TypeScript mirror.
 * `path` is relative to the schema node the rule sits on (`.entries[3].externalIP`, `[2]`);
 * when omitted, the rule's `fieldPath` (or the node itself) is used.
 */
export type Report = (message: string, path?: string) => void;

/**
 * One validation rule, written twice side by side: in CEL for kube-apiserver
 * (`x-kubernetes-validations`) and in TypeScript for the runtime validators.
 */
export interface ValidationRule<T> {
  /** CEL expression; `self` is the value at this schema node. */
  rule: string;
  message?: string;
  /** CEL expression producing the message (may include the offending value). */
  messageExpression?: string;
  /** Relative JSON path of the field the error is reported on, e.g. `.entries`. */
  fieldPath?: string;
  reason?: RuleReason;
  /** Transition rules only: also evaluate on create (oldSelf is then an optional). */
  optionalOldSelf?: boolean;
  /**
   * The same rule in TypeScript. Must be defensive: it may run on values whose parts
   * failed structural validation (wrong types, bad IPs); those parts are reported elsewhere.
   * Omitted for transition rules (`oldSelf`), which only the API server can evaluate.
   */
  check?: (self: T, report: Report) => void;
}

/** The CRD form of a rule (what `x-kubernetes-validations` holds). */
export interface CrdValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: RuleReason;
  optionalOldSelf?: boolean;
}

const RULES = 'x-kubernetes-validations';
const CHECK = 'check';

/**
 * Attaches validation rules to a schema (mutates and returns it). The CEL part goes to
 * `x-kubernetes-validations`; the TypeScript check is kept as a non-enumerable property of each
 * entry, so it survives TypeBox's composition (Optional, Object) but never reaches JSON or YAML.
 */
export function withRules<S extends TSchema>(schema: S, rules: ReadonlyArray<ValidationRule<Static<S>>>): S {
  const target = schema as unknown as Record<string, unknown>;
  const existing = (target[RULES] as CrdValidationRule[] | undefined) ?? [];
  const entries = rules.map((r) => {
    const entry: CrdValidationRule = { rule: r.rule };
    if (r.message !== undefined) entry.message = r.message;
    if (r.messageExpression !== undefined) entry.messageExpression = r.messageExpression;
    if (r.fieldPath !== undefined) entry.fieldPath = r.fieldPath;
    if (r.reason !== undefined) entry.reason = r.reason;
    if (r.optionalOldSelf !== undefined) entry.optionalOldSelf = r.optionalOldSelf;
    Object.defineProperty(entry, CHECK, { value: r, enumerable: false });
    return entry;
  });
  target[RULES] = [...existing, ...entries];
  return schema;
}

/** The rules attached to a schema node, with their TypeScript checks. */
export function rulesOf(schema: unknown): Array<ValidationRule<unknown>> {
  if (typeof schema !== 'object' || schema === null) return [];
  const entries = (schema as Record<string, unknown>)[RULES];
  if (!Array.isArray(entries)) return [];
  return entries.map((e: CrdValidationRule) => {
    const full = (e as unknown as Record<string, unknown>)[CHECK] as ValidationRule<unknown> | undefined;
    return full ?? { ...e };
  });
}
