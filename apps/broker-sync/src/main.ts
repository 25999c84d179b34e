import { packageVersion, runService, useBus, useKubeApi } from '@strait/runtime';
import { configSpec } from './config.ts';

await runService({
  name: 'broker-sync',
  version: packageVersion(new URL('../package.json', import.meta.url)),
  summary: 'Strait broker sync: exports this cluster\'s Cluster and Endpoint to the Broker, imports the remote ones and produces TunnelEndpoints and NatMappings.',
  configSpec,
  async start(ctx) {
    await useKubeApi(ctx, ctx.config.kubeconfig);
    if (ctx.config.brokerKubeconfig) await useKubeApi(ctx, ctx.config.brokerKubeconfig, 'broker-api');
    const bus = await useBus(ctx);
    // Reconcilers are added here by later issues; stopping leaves the datapath in place.
    return {
      async stop() {
        await bus?.close();
      },
    };
  },
});
