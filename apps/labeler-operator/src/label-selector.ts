/**
 * Validation of equality-based label selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated), the form
 * the informer passes to the API server. Returns a reason, or undefined when valid.
 */

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function keyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !PREFIX.test(prefix))) return `label key ${JSON.stringify(key)} has an invalid prefix (must be a DNS subdomain)`;
  if (!NAME.test(name)) return `label key ${JSON.stringify(key)} is invalid (name: at most 63 alphanumerics, '-', '_', '.')`;
  return undefined;
}

export function labelSelectorProblem(selector: string): string | undefined {
  const terms = selector.split(',').map((t) => t.trim());
  if (terms.some((t) => t === '')) return 'must be one or more comma-separated terms (key=value, key!=value, key, !key)';
  for (const term of terms) {
    const m = /^(!?)([^=!]+?)\s*(?:(==|=|!=)\s*(.*))?$/.exec(term);
    if (!m) return `term ${JSON.stringify(term)} is not key=value, key!=value, key or !key`;
    const [, not, key = '', op, value] = m;
    if (not && op) return `term ${JSON.stringify(term)}: '!' cannot be combined with an operator`;
    const kp = keyProblem(key.trim());
    if (kp) return kp;
    if (op && !VALUE.test(value ?? '')) return `label value ${JSON.stringify(value)} in ${JSON.stringify(term)} is invalid (at most 63 alphanumerics, '-', '_', '.')`;
  }
  return undefined;
}
