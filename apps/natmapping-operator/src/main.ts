import { packageVersion, runService } from '@strait/runtime';
import { configSpec } from './config.ts';

await runService({
  name: 'natmapping-operator',
  version: packageVersion(new URL('../package.json', import.meta.url)),
  summary: 'Strait NAT mapping operator: on every gateway node, programs the DNAT maps of the NatMappings inside the gateway network namespace.',
  configSpec,
  // The heavy wiring (Kubernetes client, drivers, kernel ports) loads only once the flags are valid.
  start: async (ctx) => (await import('./start.ts')).startNatMappingOperator(ctx),
});
