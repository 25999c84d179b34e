import { NatMappingResource, type NatMapping } from '@strait/api';
import { CrClient, EventResource, type EventsV1Event } from '@strait/kube';
import { IpNetns, NftSession, NftTables, ProcSysctl, execRunner, procNamespaceIdentity, sessionRunner } from '@strait/net';
import { ControllerMetrics } from '@strait/observability';
import { useBus, useKubeApi, type ConfigValues, type ServiceContext, type ServiceHandle } from '@strait/runtime';
import type { configSpec } from './config.ts';
import { NatDatapath } from './datapath.ts';
import { NatMetrics } from './metrics.ts';
import { fieldManagerFor } from './node-status.ts';
import { NatMappingOperator } from './operator.ts';

/** Wires the service once its configuration is valid (loaded lazily by main.ts, so a bad flag is answered at once). */
export async function startNatMappingOperator(ctx: ServiceContext<ConfigValues<(typeof configSpec)['options']>>): Promise<ServiceHandle> {
  const { config, logger } = ctx;
  const kc = await useKubeApi(ctx, config.kubeconfig);
  const bus = await useBus(ctx);

  const runner = execRunner({ defaultTimeoutMs: 60_000 });
  const session = config.nftSession ? new NftSession({ netns: config.netnsName }) : undefined;
  const datapath = new NatDatapath({
    netnsName: config.netnsName,
    netns: new IpNetns(runner),
    sysctl: new ProcSysctl(runner),
    nft: new NftTables(runner),
    // Element transactions (every change after the first apply) go through the long-lived nft -i.
    runner: session ? sessionRunner(runner, session) : runner,
    namespaceId: procNamespaceIdentity(config.netnsName).target,
    logger,
  });
  await datapath.prepare();

  const operator = new NatMappingOperator({
    client: new CrClient<NatMapping>(kc, NatMappingResource, { fieldManager: fieldManagerFor(config.nodeName) }),
    events: new CrClient<EventsV1Event>(kc, EventResource),
    namespace: config.namespace,
    nodeName: config.nodeName,
    datapath,
    logger,
    metrics: new NatMetrics(ctx.registry),
    controllerMetrics: new ControllerMetrics(ctx.registry),
    verifyIntervalMs: config.verifyInterval,
  });
  ctx.addReadinessCheck('natmap', async () => {
    if (!operator.synced) throw new Error('the NAT table has not been applied yet');
  });
  await operator.start();

  return {
    // Stopping leaves the gateway namespace and the NAT table exactly as they are.
    async stop() {
      await operator.stop();
      await session?.close();
      await bus?.close();
    },
  };
}
