import { describe, expect, it } from 'vitest';
import { substituteVariables, vectorSelectors } from './promql.ts';

describe('vectorSelectors', () => {
  it('finds metric selectors and skips functions, aggregations, grouping labels and durations', () => {
    const expr =
      'histogram_quantile(0.99, sum by (peer, le) (rate(strait_tunnel_rtt_seconds_bucket{namespace=~"$namespace", peer=~"$peer"}[$__rate_interval])))';
    expect(vectorSelectors(expr)).toEqual([{ metric: 'strait_tunnel_rtt_seconds_bucket', text: 'strait_tunnel_rtt_seconds_bucket{namespace=~"$namespace", peer=~"$peer"}' }]);
  });

  it('finds both sides of a join and bare metric names', () => {
    const expr = 'sum(up) + process_resident_memory_bytes{namespace=~"$namespace"} * on(instance, job) group_left(service) strait_build_info{service="route-agent"}';
    expect(vectorSelectors(expr).map((s) => s.text)).toEqual([
      'up',
      'process_resident_memory_bytes{namespace=~"$namespace"}',
      'strait_build_info{service="route-agent"}',
    ]);
  });

  it('ignores numbers, vector(0) and comparison operands', () => {
    expect(vectorSelectors('count(max by (peer) (strait_tunnel_status{status="Connected"}) == 1) or vector(0)').map((s) => s.metric)).toEqual(['strait_tunnel_status']);
    expect(vectorSelectors('sum(increase(strait_gateway_role_changes_total{to="active"}[24h])) > 1e3')).toHaveLength(1);
  });
});

describe('substituteVariables', () => {
  it('replaces multi-value variables by .* and interval variables by a duration', () => {
    expect(substituteVariables('rate(x{namespace=~"$namespace", peer=~"${peer}"}[$__rate_interval])', { rateInterval: '30s' })).toBe(
      'rate(x{namespace=~".*", peer=~".*"}[30s])',
    );
    expect(substituteVariables('x{a=~"$a"}', { values: { a: 'one' } })).toBe('x{a=~"one"}');
  });
});
