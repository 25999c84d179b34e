import { packageVersion, runService } from '@strait/runtime';
import { configSpec } from './config.ts';

await runService({
  name: 'tunnel-operator',
  version: packageVersion(new URL('../package.json', import.meta.url)),
  summary:
    'Strait tunnel operator: on gateway nodes, keeps the gateway network namespace, veth pair, tunnels, per-peer routes and remap NAT in line with the TunnelEndpoints; the Lease holder is the active gateway, the other replicas are hot standbys.',
  configSpec,
  // The heavy wiring (Kubernetes client, drivers, kernel ports) loads only once the flags are valid.
  start: async (ctx) => (await import('./start.ts')).startTunnelOperator(ctx),
});
