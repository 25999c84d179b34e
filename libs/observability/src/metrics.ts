import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type { Registry } from 'prom-client';

/** A prom-client Registry carrying the default process_* and nodejs_* metrics. */
export function createRegistry(opts: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  return registry;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class MetricNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricNameError';
  }
}

/**
 * Checks a metric name against the Prometheus conventions Strait follows: snake_case, counters end
 * in `_total`, gauges and histograms never do, durations are in `_seconds` (never `_ms`/`_milliseconds`),
 * sizes in `_bytes`.
 */
export function checkMetricName(name: string, type: 'counter' | 'gauge' | 'histogram', labelNames: readonly string[] = []): void {
  if (!NAME.test(name) || name !== name.toLowerCase()) throw new MetricNameError(`metric name "${name}" must be lower snake_case`);
  if (type === 'counter' && !name.endsWith('_total')) throw new MetricNameError(`counter "${name}" must end in _total`);
  if (type !== 'counter' && name.endsWith('_total')) throw new MetricNameError(`${type} "${name}" must not end in _total`);
  if (/_(ms|milliseconds|millis|us|microseconds|minutes|hours)(_total)?$/.test(name)) {
    throw new MetricNameError(`metric "${name}" must use base units (_seconds)`);
  }
  if (/_(kb|mb|kilobytes|megabytes)(_total)?$/.test(name)) throw new MetricNameError(`metric "${name}" must use base units (_bytes)`);
  for (const l of labelNames) {
    if (!LABEL.test(l) || l.startsWith('__')) throw new MetricNameError(`label "${l}" of metric "${name}" is not a valid label name`);
  }
}

interface MetricOpts<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

function existing<T>(registry: Registry, name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}

/** A counter with a checked conventional name; returns the already registered one when called twice. */
export function counter<L extends string = string>(registry: Registry, opts: MetricOpts<L>): Counter<L> {
  checkMetricName(opts.name, 'counter', opts.labelNames);
  return existing<Counter<L>>(registry, opts.name) ?? new Counter<L>({ ...opts, labelNames: opts.labelNames ?? [], registers: [registry] });
}

/** A gauge with a checked conventional name; returns the already registered one when called twice. */
export function gauge<L extends string = string>(registry: Registry, opts: MetricOpts<L>): Gauge<L> {
  checkMetricName(opts.name, 'gauge', opts.labelNames);
  return existing<Gauge<L>>(registry, opts.name) ?? new Gauge<L>({ ...opts, labelNames: opts.labelNames ?? [], registers: [registry] });
}

/** A histogram with a checked conventional name; returns the already registered one when called twice. */
export function histogram<L extends string = string>(registry: Registry, opts: MetricOpts<L> & { buckets?: number[] }): Histogram<L> {
  checkMetricName(opts.name, 'histogram', opts.labelNames);
  return (
    existing<Histogram<L>>(registry, opts.name) ??
    new Histogram<L>({ ...opts, labelNames: opts.labelNames ?? [], ...(opts.buckets ? { buckets: opts.buckets } : {}), registers: [registry] })
  );
}

/** Exponential histogram buckets: `start`, `start*factor`, … (`count` buckets). */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  if (!(start > 0) || !(factor > 1) || !Number.isInteger(count) || count < 1) {
    throw new RangeError('exponentialBuckets: need start > 0, factor > 1, count >= 1');
  }
  const out: number[] = [];
  for (let i = 0, v = start; i < count; i++, v *= factor) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Latency buckets (seconds) for operations that are expected to take 1 ms … 10 s. */
export const DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Measures an async operation into a histogram (seconds), whether it resolves or rejects. */
export async function timed<T, L extends string>(h: Histogram<L>, labels: Partial<Record<L, string | number>>, fn: () => Promise<T>): Promise<T> {
  const end = h.startTimer(labels);
  try {
    return await fn();
  } finally {
    end();
  }
}

/** `strait_build_info{service,version} 1`, the conventional build-info gauge. */
export function registerBuildInfo(registry: Registry, info: { service: string; version: string }): void {
  const g = gauge(registry, { name: 'strait_build_info', help: 'Strait build information (always 1).', labelNames: ['service', 'version', 'node_version'] as const });
  g.set({ service: info.service, version: info.version, node_version: process.version }, 1);
}
