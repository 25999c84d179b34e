import { packageVersion, runService, useBus, useKubeApi } from '@strait/runtime';
import { configSpec } from './config.ts';

await runService({
  name: 'natmapping-operator',
  version: packageVersion(new URL('../package.json', import.meta.url)),
  summary: 'Strait NAT mapping operator: on every gateway node, programs the DNAT maps of the NatMappings inside the gateway network namespace.',
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
