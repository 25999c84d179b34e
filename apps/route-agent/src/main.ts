import { packageVersion, runService, useBus, useKubeApi } from '@strait/runtime';
import { configSpec } from './config.ts';

await runService({
  name: 'route-agent',
  version: packageVersion(new URL('../package.json', import.meta.url)),
  summary: 'Strait route agent: on every node, routes cross-cluster traffic to the active gateway and re-points on failover.',
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
