// @strait/deploy: tests and tools of Strait's Helm charts, Grafana dashboards and container images.
export * from './paths.ts';
export * from './crd-sync.ts';
export * from './helm.ts';
