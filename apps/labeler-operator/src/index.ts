export { configSpec, DEFAULT_PROBE_PORT } from './config.ts';
