import { describe, expect, it } from 'vitest';
import { MetricNameError, checkMetricName, counter, createRegistry, exponentialBuckets, gauge, histogram, registerBuildInfo, timed } from './metrics.ts';

describe('createRegistry', () => {
  it('carries the default process and nodejs metrics', async () => {
    const text = await createRegistry().metrics();
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^process_resident_memory_bytes /m);
    expect(text).toMatch(/^nodejs_heap_size_total_bytes /m);
  });

  it('can be created without default metrics', async () => {
    expect(await createRegistry({ defaultMetrics: false }).metrics()).toBe('\n');
  });

  it('two registries are independent', () => {
    const a = createRegistry();
    const b = createRegistry();
    counter(a, { name: 'x_total', help: 'x' });
    counter(b, { name: 'x_total', help: 'x' });
    expect(a.getSingleMetric('x_total')).not.toBe(b.getSingleMetric('x_total'));
  });
});

describe('checkMetricName', () => {
  it.each([
    ['strait_tunnel_bytes_total', 'counter'],
    ['strait_tunnel_rtt_seconds', 'histogram'],
    ['strait_tunnels', 'gauge'],
  ] as const)('accepts %s (%s)', (name, type) => {
    expect(() => checkMetricName(name, type)).not.toThrow();
  });

  it.each([
    ['strait_errors', 'counter', /must end in _total/],
    ['strait_tunnels_total', 'gauge', /must not end in _total/],
    ['strait_rtt_ms', 'histogram', /base units \(_seconds\)/],
    ['strait_rx_kb_total', 'counter', /base units \(_bytes\)/],
    ['Strait-Bad', 'gauge', /lower snake_case/],
  ] as const)('rejects %s (%s)', (name, type, re) => {
    expect(() => checkMetricName(name, type)).toThrow(re);
    expect(() => checkMetricName(name, type)).toThrow(MetricNameError);
  });

  it('rejects bad label names', () => {
    expect(() => checkMetricName('a_total', 'counter', ['__x'])).toThrow(/label "__x"/);
  });
});

describe('helpers', () => {
  it('return the registered metric when asked twice', () => {
    const r = createRegistry({ defaultMetrics: false });
    expect(gauge(r, { name: 'g', help: 'g' })).toBe(gauge(r, { name: 'g', help: 'g' }));
    expect(counter(r, { name: 'c_total', help: 'c' })).toBe(counter(r, { name: 'c_total', help: 'c' }));
  });

  it('timed observes resolved and rejected operations', async () => {
    const r = createRegistry({ defaultMetrics: false });
    const h = histogram(r, { name: 'op_duration_seconds', help: 'op', labelNames: ['op'] as const });
    await timed(h, { op: 'a' }, async () => 1);
    await expect(timed(h, { op: 'a' }, async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(await r.metrics()).toMatch(/^op_duration_seconds_count\{op="a"\} 2$/m);
  });

  it('exponentialBuckets', () => {
    expect(exponentialBuckets(0.001, 10, 4)).toEqual([0.001, 0.01, 0.1, 1]);
    expect(() => exponentialBuckets(0, 2, 3)).toThrow(RangeError);
  });

  it('registerBuildInfo', async () => {
    const r = createRegistry({ defaultMetrics: false });
    registerBuildInfo(r, { service: 'route-agent', version: '1.2.3' });
    expect(await r.metrics()).toMatch(/^strait_build_info\{service="route-agent",version="1\.2\.3",node_version="v\d+\.\d+\.\d+"\} 1$/m);
  });
});
