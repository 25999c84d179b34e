export { configSpec, DEFAULT_PROBE_PORT } from './config.ts';
export * from './gateway-roles.ts';
export * from './label-applier.ts';
export { labelSelectorProblem } from './label-selector.ts';
export * from './labeler.ts';
export { LabelerMetrics } from './labeler-metrics.ts';
export * from './operator.ts';
