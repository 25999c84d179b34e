/**
 * Just enough PromQL to find the series a query needs: its vector selectors (metric name plus label
 * matchers), and the substitution of Grafana variables so a query can be evaluated outside Grafana.
 */

export interface Selector {
  /** Metric name, e.g. strait_tunnel_rtt_seconds_bucket. */
  readonly metric: string;
  /** The selector as written, e.g. `strait_tunnel_status{status="Connected"}`. */
  readonly text: string;
}

const KEYWORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset',
  'sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group',
  'inf', 'nan', 'atan2',
]);

/** Vector selectors of a PromQL expression, in order, without duplicates. */
export function vectorSelectors(expr: string): Selector[] {
  // Grouping label lists and range/subquery durations hold no selectors.
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"(?![^{]*\})/g, '""')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  const out: Selector[] = [];
  const re = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const whole = m[0];
    const name = m[1] ?? '';
    const braces = m[2];
    const before = text.slice(0, m.index);
    const after = text.slice(m.index + whole.length);
    if (/[0-9.]$/.test(before) || /\$$/.test(before)) continue; // part of a number or a variable
    if (!braces && /^\s*\(/.test(after)) continue; // a function call
    if (KEYWORDS.has(name.toLowerCase()) && !braces) continue;
    const sel = { metric: name, text: braces ? `${name}${braces}` : name };
    if (!out.some((s) => s.text === sel.text)) out.push(sel);
  }
  return out;
}

/** Replaces Grafana variables: multi-value ones by `.*`, $__rate_interval and friends by a duration. */
export function substituteVariables(expr: string, opts: { rateInterval?: string; values?: Record<string, string> } = {}): string {
  const rate = opts.rateInterval ?? '1m';
  return expr
    .replace(/\$__rate_interval|\$__interval|\$__range/g, rate)
    .replace(/\$\{?([a-zA-Z_][a-zA-Z0-9_]*)\}?/g, (_m, name: string) => opts.values?.[name] ?? '.*');
}
