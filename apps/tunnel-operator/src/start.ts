import { EndpointResource, GatewayResource, TunnelEndpointResource, type Backend, type Endpoint, type Gateway, type TunnelEndpoint } from '@strait/api';
import { Cables, defaultRegistry, type DriverConfigs, type WireGuardDriver } from '@strait/drivers';
import { CrClient, EventResource, LeaseResource, SecretResource, type EventsV1Event, type Lease } from '@strait/kube';
import { IpAddresses, IpLinks, IpNetns, IpRoutes, IpRules, NftTables, ProcSysctl, execRunner } from '@strait/net';
import { ControllerMetrics } from '@strait/observability';
import { useBus, useKubeApi, type ConfigValues, type ServiceContext, type ServiceHandle } from '@strait/runtime';
import { VXLAN_PORT, defaultForwardUdpPorts, endpointOffer } from './backends.ts';
import type { configSpec } from './config.ts';
import { GatewayDatapath } from './datapath.ts';
import { loadGatewayKeys, type SecretObject } from './keys.ts';
import { gatewayLayout } from './layout.ts';
import { TunnelMetrics } from './metrics.ts';
import { TunnelOperator } from './operator.ts';

const WG_IFNAME = 'strait-wg0';

/** Wires the service once its configuration is valid (loaded lazily by main.ts, so a bad flag is answered at once). */
export async function startTunnelOperator(ctx: ServiceContext<ConfigValues<(typeof configSpec)['options']>>): Promise<ServiceHandle> {
  const { config, logger } = ctx;
  const kc = await useKubeApi(ctx, config.kubeconfig);
  const bus = await useBus(ctx);
  const podName = config.podName ?? config.nodeName;

  // Checked by the config's --backends validation.
  const backends = config.backends as Backend[];
  const keys = await loadGatewayKeys(new CrClient<SecretObject>(kc, SecretResource), config.namespace, config.keySecret);
  const runner = execRunner({ defaultTimeoutMs: 60_000 });
  const layout = gatewayLayout({
    netnsName: config.netnsName,
    vethCidr: config.vethCidr,
    healthCheckIp: config.healthCheckIp,
    forwardUdpPorts: config.forwardUdpPorts.length > 0 ? config.forwardUdpPorts : defaultForwardUdpPorts(backends, config.wireguardPort),
  });
  const driverLog = logger.child({ component: 'drivers' });
  const configs: DriverConfigs = {
    ...(keys.wireguardPrivateKey
      ? { wireguard: { privateKey: keys.wireguardPrivateKey, listenPort: config.wireguardPort, implementation: config.wireguardImplementation, ifname: WG_IFNAME } }
      : {}),
    vxlan: { port: VXLAN_PORT },
  };
  const cables = new Cables(
    defaultRegistry(),
    { clusterId: config.clusterId, netns: config.netnsName, localIp: layout.veth.gatewayIp, stateDir: config.stateDir, runner, logger: driverLog, metrics: ctx.registry },
    configs,
  );
  const datapath = new GatewayDatapath({
    netnsName: config.netnsName,
    layout,
    ports: {
      netns: new IpNetns(runner),
      links: new IpLinks(runner),
      addresses: new IpAddresses(runner),
      routes: new IpRoutes(runner),
      rules: new IpRules(runner),
      sysctl: new ProcSysctl(runner),
      nft: new NftTables(runner),
    },
    runner,
    cables,
    wireguard: keys.wireguardPrivateKey ? { ifname: WG_IFNAME, implementation: config.wireguardImplementation, stateDir: config.stateDir } : undefined,
    ipsec: keys.ipsecPsk !== undefined,
    logger: driverLog,
  });
  const prepared = await datapath.prepare();
  logger.info({ netns: config.netnsName, created: prepared.netnsCreated, writes: prepared.writes }, prepared.writes > 0 ? 'gateway namespace and veth prepared' : 'gateway namespace and veth adopted unchanged');
  // Hot standby: the drivers' shared machinery (link, daemon) is ready on every replica.
  let publicKey: string | undefined;
  if (keys.wireguardPrivateKey) {
    const wg = cables.driver('wireguard') as WireGuardDriver;
    await wg.init();
    publicKey = wg.localPublicKey;
  }

  const operator = new TunnelOperator({
    clusterId: config.clusterId,
    namespace: config.namespace,
    nodeName: config.nodeName,
    podName,
    teps: new CrClient<TunnelEndpoint>(kc, TunnelEndpointResource, { fieldManager: 'strait-tunnel-operator' }),
    endpoints: new CrClient<Endpoint>(kc, EndpointResource, { fieldManager: 'strait-tunnel-operator' }),
    gateways: new CrClient<Gateway>(kc, GatewayResource, { fieldManager: 'strait-tunnel-operator' }),
    events: new CrClient<EventsV1Event>(kc, EventResource),
    leases: new CrClient<Lease>(kc, LeaseResource),
    election: { leaseName: config.leaseName, leaseDurationMs: config.leaseDuration, renewDeadlineMs: config.renewDeadline, retryPeriodMs: config.retryPeriod },
    datapath,
    local: { clusterId: config.clusterId, podCidrs: config.podCidrs, healthCheckIp: config.healthCheckIp, ipsecPsk: keys.ipsecPsk },
    endpoint: config.endpointIp
      ? {
          ip: config.endpointIp,
          offer: endpointOffer({
            clusterId: config.clusterId,
            backends,
            wireguard: publicKey ? { publicKey, port: config.wireguardPort } : undefined,
            ipsecPsk: keys.ipsecPsk !== undefined,
          }),
        }
      : undefined,
    bus,
    logger,
    metrics: new TunnelMetrics(ctx.registry),
    controllerMetrics: new ControllerMetrics(ctx.registry),
    statusIntervalMs: config.statusInterval,
  });
  ctx.addReadinessCheck('tunnelendpoints', () => {
    if (!operator.ready) throw new Error('TunnelEndpoint cache not synced yet');
  });
  await operator.start();

  return {
    // Stopping releases the Lease; the peers are released only once another replica holds it.
    async stop() {
      await operator.stop();
      await cables.close();
      await bus?.close();
    },
  };
}
