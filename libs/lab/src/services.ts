import { join } from 'node:path';
import { REPO_ROOT } from './paths.ts';
import { healthCheckIpOf } from './plan.ts';

/** The Strait services the lab runs for every member cluster, in start order. */
export const LAB_SERVICES = ['tunnel-operator', 'natmapping-operator', 'route-agent', 'labeler-operator', 'broker-sync'] as const;
export type LabService = (typeof LAB_SERVICES)[number];

/** Where a service runs: on every gateway node, on every node, or once per cluster (a Deployment's single replica). */
export const SERVICE_PLACEMENT: Readonly<Record<LabService, 'gateway' | 'node' | 'cluster'>> = {
  'tunnel-operator': 'gateway',
  'natmapping-operator': 'gateway',
  'route-agent': 'node',
  'labeler-operator': 'cluster',
  'broker-sync': 'cluster',
};

export interface ServiceLaunch {
  service: LabService;
  cluster: string;
  probePort: number;
  kubeconfig: string;
  /** broker-sync: this cluster's member identity on the Broker. */
  brokerKubeconfig: string;
  nats?: { url: string; user: string; passwordFile: string };
  /** Node the process stands for. */
  nodeName: string;
  /** The node's address on the node network. */
  nodeIp?: string;
  /** Gateway nodes: the gateway network namespace (names are global on one machine). */
  gatewayNetns?: string;
  /** Gateway nodes: the tunnel-operator replica's pod name. */
  podName?: string;
  /** Gateway nodes: the WAN address the peers reach. */
  endpointIp?: string;
  /** The cluster's pod CIDR and service CIDR. */
  podCidr?: string;
  serviceCidr?: string;
  /** Gateway nodes: private directory of the node's tunnel daemons. */
  stateDir?: string;
  /** Gateway nodes: the cable drivers offered, the preferred one first (default: the tunnel-operator's, wireguard). */
  backends?: readonly string[];
}

export function serviceMain(service: LabService): string {
  return join(REPO_ROOT, 'apps', service, 'src', 'main.ts');
}

/** Command-line flags of one service process in the lab. */
export function serviceArgs(l: ServiceLaunch): string[] {
  const args = [
    serviceMain(l.service),
    `--cluster-id=${l.cluster}`,
    `--kubeconfig=${l.kubeconfig}`,
    `--probe-addr=127.0.0.1:${l.probePort}`,
    '--log-level=info',
  ];
  if (l.nats) args.push(`--nats-url=${l.nats.url}`, `--nats-user=${l.nats.user}`, `--nats-password-file=${l.nats.passwordFile}`);
  switch (l.service) {
    case 'tunnel-operator':
      args.push(`--node-name=${l.nodeName}`, `--pod-name=${l.podName ?? l.nodeName}`);
      if (l.gatewayNetns) args.push(`--netns-name=${l.gatewayNetns}`);
      if (l.stateDir) args.push(`--state-dir=${l.stateDir}`);
      if (l.podCidr) args.push(`--pod-cidrs=${l.podCidr}`, `--health-check-ip=${healthCheckIpOf(l.podCidr)}`);
      if (l.endpointIp) args.push(`--endpoint-ip=${l.endpointIp}`);
      if (l.backends && l.backends.length > 0) args.push(`--backends=${l.backends.join(',')}`);
      // The lab machine may have no WireGuard kernel module; wireguard-go works everywhere.
      args.push('--wireguard-implementation=wireguard-go', '--status-interval=1s');
      break;
    case 'natmapping-operator':
      args.push(`--node-name=${l.nodeName}`);
      if (l.gatewayNetns) args.push(`--netns-name=${l.gatewayNetns}`);
      break;
    case 'route-agent':
      args.push(`--node-name=${l.nodeName}`);
      if (l.nodeIp) args.push(`--node-ip=${l.nodeIp}`);
      break;
    case 'broker-sync':
      args.push(`--broker-kubeconfig=${l.brokerKubeconfig}`, `--pod-name=${replicaPodName('broker-sync', l.cluster, l.nodeName)}`, '--heartbeat-interval=5s');
      if (l.podCidr) args.push(`--pod-cidrs=${l.podCidr}`, `--service-cidrs=${l.serviceCidr ?? '10.96.0.0/16'}`);
      break;
    case 'labeler-operator':
      args.push(`--pod-name=${replicaPodName('labeler-operator', l.cluster, l.nodeName)}`);
      break;
  }
  return args;
}

/** The pod name of a replica (its identity in leader election): per node for node services, per cluster otherwise. */
export function replicaPodName(service: LabService, cluster: string, node: string): string {
  if (service === 'tunnel-operator') return `strait-gateway-${node}`;
  return SERVICE_PLACEMENT[service] === 'cluster' ? `${service}-${cluster}` : `${service}-${node}`;
}
