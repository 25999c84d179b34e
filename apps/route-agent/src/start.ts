import { EndpointResource, GatewayResource, TunnelEndpointResource, type Endpoint, type Gateway, type TunnelEndpoint } from '@strait/api';
import { CrClient, EventResource, LeaseResource, NodeResource, type EventsV1Event, type Lease } from '@strait/kube';
import { execRunner } from '@strait/net';
import { useBus, useKubeApi, type ConfigValues, type ServiceContext, type ServiceHandle } from '@strait/runtime';
import { RouteAgent, type NodeObject } from './agent.ts';
import type { configSpec } from './config.ts';
import { RouteDatapath, kernelPorts, routeGetDevice } from './datapath.ts';
import { RouteAgentMetrics } from './metrics.ts';

/** Wires the service once its configuration is valid (loaded lazily by main.ts). */
export async function startRouteAgent(ctx: ServiceContext<ConfigValues<(typeof configSpec)['options']>>): Promise<ServiceHandle> {
  const { config, logger } = ctx;
  const kc = await useKubeApi(ctx, config.kubeconfig);
  const bus = await useBus(ctx);
  const runner = execRunner({ defaultTimeoutMs: 30_000 });
  const datapath = new RouteDatapath({ ports: kernelPorts(runner), underlayDevice: routeGetDevice((cmd, args) => runner.run(cmd, args)) });
  const agent = new RouteAgent({
    clusterId: config.clusterId,
    namespace: config.namespace,
    nodeName: config.nodeName,
    nodeIp: config.nodeIp,
    leaseName: config.leaseName,
    leases: new CrClient<Lease>(kc, LeaseResource),
    gateways: new CrClient<Gateway>(kc, GatewayResource),
    endpoints: new CrClient<Endpoint>(kc, EndpointResource),
    teps: new CrClient<TunnelEndpoint>(kc, TunnelEndpointResource),
    nodes: new CrClient<NodeObject>(kc, NodeResource),
    events: new CrClient<EventsV1Event>(kc, EventResource),
    bus,
    overlay: {
      vni: config.vxlanVni,
      port: config.vxlanPort,
      mtu: config.vxlanMtu,
      overlayCidr: config.overlayCidr,
      mss: config.mssClamp === 'pmtu' ? 'pmtu' : Number(config.mssClamp),
    },
    datapath,
    logger,
    metrics: new RouteAgentMetrics(ctx.registry),
    resyncIntervalMs: config.resyncInterval,
  });
  ctx.addReadinessCheck('routes', () => {
    if (!agent.ready) throw new Error('routes not applied yet (caches syncing or node IP unknown)');
  });
  // Started in the background: readiness reports it; the probes answer meanwhile.
  void agent.start().catch((e: unknown) => logger.error({ err: e instanceof Error ? e.message : String(e) }, 'route-agent failed to start; not ready'));
  return {
    // The routes stay: a restarted agent adopts them; traffic keeps flowing meanwhile.
    async stop() {
      await agent.stop();
      await bus?.close();
    },
  };
}
