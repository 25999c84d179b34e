import { packageVersion, runService, useBus, useKubeApi } from '@strait/runtime';
import { configSpec } from './config.ts';
import { startLabelerOperator } from './operator.ts';

await runService({
  name: 'labeler-operator',
  version: packageVersion(new URL('../package.json', import.meta.url)),
  summary:
    'Strait labeler operator: labels the gateway pod that holds the gateway Lease net.strait.io/gateway=active and every other gateway pod standby (demotions always before the promotion), so the gateway Service selects exactly the active one. Only the holder of its own Lease (--lease-name) writes.',
  configSpec,
  async start(ctx) {
    const c = ctx.config;
    const kubeConfig = await useKubeApi(ctx, c.kubeconfig);
    const bus = await useBus(ctx);
    const operator = startLabelerOperator({
      kubeConfig,
      bus,
      clusterId: c.clusterId,
      namespace: c.namespace,
      gatewayLeaseName: c.gatewayLeaseName,
      podSelector: c.gatewaySelector,
      identity: c.podName,
      election: { leaseName: c.leaseName, leaseDurationMs: c.leaseDuration, renewDeadlineMs: c.renewDeadline, retryPeriodMs: c.retryPeriod },
      logger: ctx.logger,
      registry: ctx.registry,
    });
    ctx.addReadinessCheck('caches', () => {
      if (!operator.labeler.hasSynced()) throw new Error('gateway Lease and pod caches not synced yet');
    });
    return {
      async stop() {
        await operator.stop();
        await bus?.close();
      },
    };
  },
});
