import { packageVersion, runService, useBus, useKubeApi } from '@strait/runtime';
import { configSpec } from './config.ts';

await runService({
  name: 'tunnel-operator',
  version: packageVersion(new URL('../package.json', import.meta.url)),
  summary: 'Strait tunnel operator: on gateway nodes, keeps the gateway network namespace, veth pair, tunnels, per-peer routes and remap NAT in line with the TunnelEndpoints; the Lease holder is the active gateway.',
  configSpec,
  async start(ctx) {
    await useKubeApi(ctx, ctx.config.kubeconfig);
    const bus = await useBus(ctx);
    // Reconcilers are added here by later issues; stopping leaves the datapath in place.
    return {
      async stop() {
        await bus?.close();
      },
    };
  },
});
