import { packageVersion, runService } from '@strait/runtime';
import { configSpec } from './config.ts';

await runService({
  name: 'broker-sync',
  version: packageVersion(new URL('../package.json', import.meta.url)),
  summary: "Strait broker sync: exports this cluster's Cluster and Endpoint to the Broker, imports the remote ones and produces TunnelEndpoints and NatMappings.",
  configSpec,
  // The heavy wiring (Kubernetes clients, informers, NATS) loads only once the flags are valid.
  start: async (ctx) => (await import('./start.ts')).startBrokerSync(ctx),
});
