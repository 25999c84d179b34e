export { createLogger, LOG_LEVELS } from './logger.ts';
export type { Logger, LoggerOptions, LogLevel } from './logger.ts';
export { REDACTED, isSecretKey, redactSecrets } from './redact.ts';
export {
  DURATION_BUCKETS_SECONDS,
  MetricNameError,
  checkMetricName,
  counter,
  createRegistry,
  exponentialBuckets,
  gauge,
  histogram,
  registerBuildInfo,
  timed,
} from './metrics.ts';
export type { Registry } from './metrics.ts';
export { ControllerMetrics } from './controller-metrics.ts';
export type { LeaderMetricsSink, ReconcileMetricsSink, ReconcileResult, WorkqueueMetricsSink } from './controller-metrics.ts';
export { ProbeServer, createProbeServer } from './probe-server.ts';
export type { CheckOptions, CheckResult, ProbeServerOptions, ReadinessCheck } from './probe-server.ts';
