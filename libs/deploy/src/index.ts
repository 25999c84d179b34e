// @strait/deploy: tests and tools of Strait's Helm charts, Grafana dashboards and container images.
export * from './paths.ts';
export * from './crd-sync.ts';
export * from './helm.ts';
export * from './dashboards/check.ts';
export { renderDashboardFiles, type DashboardFile } from './dashboards/files.ts';
export { LocalPrometheus, promtool, type ScrapeTarget, type PromtoolResult } from './dashboards/prometheus.ts';
