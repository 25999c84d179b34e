/** Validation rules used by several kinds. */
import { cidrsOverlap } from '../ip.ts';
import type { ValidationRule } from './rules.ts';

/** A transition rule: the field cannot change once set (checked by the API server on update only). */
export function immutable(field: string): ValidationRule<unknown> {
  return { rule: 'self == oldSelf', message: `${field} is immutable` };
}

/**
 * No CIDR of list `a` overlaps a CIDR of list `b` (both fields of the object the rule sits on).
 * The error is reported on `a`.
 */
export function noOverlapBetween(a: string, b: string): ValidationRule<Record<string, unknown>> {
  return {
    rule:
      `self.${a}.all(x, self.${b}.all(y, !isCIDR(x) || !isCIDR(y) || ` +
      `!(cidr(x).containsCIDR(y) || cidr(y).containsCIDR(x))))`,
    message: `${a} must not overlap ${b}`,
    fieldPath: `.${a}`,
    check: (self, report) => {
      const left = self[a];
      const right = self[b];
      if (!Array.isArray(left) || !Array.isArray(right)) return;
      left.forEach((x: unknown, i) => {
        const clash = right.find((y: unknown) => typeof x === 'string' && typeof y === 'string' && cidrsOverlap(x, y));
        if (clash !== undefined) report(`${a} must not overlap ${b}: ${String(x)} overlaps ${String(clash)}`, `.${a}[${i}]`);
      });
    },
  };
}
