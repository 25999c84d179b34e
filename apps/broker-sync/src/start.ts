import {
  ClusterResource,
  EndpointResource,
  NatMappingResource,
  ORIGIN_CLUSTER_LABEL,
  TunnelEndpointResource,
  type Cluster,
  type Endpoint,
  type NatMapping,
  type TunnelEndpoint,
} from '@strait/api';
import { CrClient, EventRecorder, EventResource, Informer, LeaseResource, type EventsV1Event, type KubeObject, type Lease } from '@strait/kube';
import { ControllerMetrics } from '@strait/observability';
import { useBus, useKubeApi, type ConfigValues, type ServiceContext, type ServiceHandle } from '@strait/runtime';
import type { configSpec } from './config.ts';
import { BrokerSyncMetrics } from './metrics.ts';
import { BrokerSyncOperator } from './operator.ts';
import { OWNED_SELECTOR } from '@strait/broker';
import { BrokerSync, FIELD_MANAGER } from './sync.ts';

/** Wires the service once its configuration is valid (loaded lazily by main.ts, so a bad flag is answered at once). */
export async function startBrokerSync(ctx: ServiceContext<ConfigValues<(typeof configSpec)['options']>>): Promise<ServiceHandle> {
  const { config, logger } = ctx;
  const kc = await useKubeApi(ctx, config.kubeconfig);
  // The Broker: its own API server (this cluster's member identity there) or this cluster.
  const bkc = config.brokerKubeconfig ? await useKubeApi(ctx, config.brokerKubeconfig, 'broker-api') : kc;
  if (!config.brokerKubeconfig) await useKubeApi(ctx, config.kubeconfig, 'broker-api');
  const bus = await useBus(ctx);
  const identity = config.podName;
  const metrics = new BrokerSyncMetrics(ctx.registry);
  const opts = { fieldManager: FIELD_MANAGER };

  const local = {
    clusters: new CrClient<Cluster>(kc, ClusterResource, opts),
    endpoints: new CrClient<Endpoint>(kc, EndpointResource, opts),
    teps: new CrClient<TunnelEndpoint>(kc, TunnelEndpointResource, opts),
    natMappings: new CrClient<NatMapping>(kc, NatMappingResource, opts),
  };
  const broker = { clusters: new CrClient<Cluster>(bkc, ClusterResource, opts), endpoints: new CrClient<Endpoint>(bkc, EndpointResource, opts) };
  const events = new EventRecorder({ client: new CrClient<EventsV1Event>(kc, EventResource), reportingController: 'net.strait.io/broker-sync', reportingInstance: identity, logger });
  const brokerLog = logger.child({ component: 'broker' });
  const informers = [
    new Informer<Cluster>({ client: broker.clusters, namespace: config.brokerNamespace, labelSelector: ORIGIN_CLUSTER_LABEL, name: 'broker clusters', logger: brokerLog }),
    new Informer<Endpoint>({ client: broker.endpoints, namespace: config.brokerNamespace, labelSelector: ORIGIN_CLUSTER_LABEL, name: 'broker endpoints', logger: brokerLog }),
    new Informer<Cluster>({ client: local.clusters, namespace: config.namespace, fieldSelector: `metadata.name=${config.clusterId}`, name: 'local cluster', logger }),
    new Informer<Endpoint>({ client: local.endpoints, namespace: config.namespace, name: 'local endpoints', logger }),
    new Informer<TunnelEndpoint>({ client: local.teps, namespace: config.namespace, labelSelector: OWNED_SELECTOR, name: 'tunnelendpoints', logger }),
  ] as unknown as Array<Informer<KubeObject>>;

  const hint: { publish?: (ep: Endpoint) => void } = {};
  const sync = new BrokerSync({
    clusterId: config.clusterId,
    namespace: config.namespace,
    brokerNamespace: config.brokerNamespace,
    local,
    broker,
    events,
    localSpec:
      config.podCidrs.length > 0
        ? { clusterID: config.clusterId, podCIDRs: config.podCidrs, serviceCIDRs: config.serviceCidrs, ...(config.externalCidr ? { externalCIDR: config.externalCidr } : {}) }
        : undefined,
    pool: config.remapPool,
    staleAfterMs: config.staleAfter,
    heartbeatIntervalMs: config.heartbeatInterval,
    onEndpointExported: (ep) => hint.publish?.(ep),
    metrics,
    logger: logger.child({ component: 'sync' }),
  });
  const operator = new BrokerSyncOperator({
    clusterId: config.clusterId,
    namespace: config.namespace,
    identity,
    sync,
    informers,
    leases: new CrClient<Lease>(kc, LeaseResource),
    election: { leaseName: config.leaseName, leaseDurationMs: config.leaseDuration, renewDeadlineMs: config.renewDeadline, retryPeriodMs: config.retryPeriod },
    bus,
    metrics,
    controllerMetrics: new ControllerMetrics(ctx.registry),
    logger,
  });
  hint.publish = (ep) => operator.publishEndpoint(ep);
  operator.start();

  return {
    // Stopping releases the Lease and leaves every local object (and so the datapath) as it is.
    async stop() {
      await operator.stop();
      await bus?.close();
    },
  };
}
