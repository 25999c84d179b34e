import { packageVersion, runService, useBus, useKubeApi } from '@strait/runtime';
import { configSpec } from './config.ts';

await runService({
  name: 'labeler-operator',
  version: packageVersion(new URL('../package.json', import.meta.url)),
  summary: 'Strait labeler operator: labels the active gateway pod net.strait.io/gateway=active and the others standby, so the gateway Service selects the active one.',
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
