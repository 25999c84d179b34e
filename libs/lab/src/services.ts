import { join } from 'node:path';
import { REPO_ROOT } from './paths.ts';

/** The Strait services the lab runs for every member cluster, in start order. */
export const LAB_SERVICES = ['tunnel-operator', 'natmapping-operator', 'route-agent', 'labeler-operator', 'broker-sync'] as const;
export type LabService = (typeof LAB_SERVICES)[number];

export interface ServiceLaunch {
  service: LabService;
  cluster: string;
  probePort: number;
  kubeconfig: string;
  brokerKubeconfig: string;
  nats?: { url: string; user: string; passwordFile: string };
  /** Node the process stands for (gateway services run on gateway nodes). */
  nodeName: string;
  /** The gateway network namespace of that node (names are global on one machine). */
  gatewayNetns: string;
  /** Private directory of the node's tunnel daemons. */
  stateDir: string;
}

/** Services that run on the node itself (hostNetwork), inside the node's namespace in the lab. */
export const NODE_LOCAL_SERVICES: ReadonlySet<LabService> = new Set(['tunnel-operator', 'natmapping-operator', 'route-agent']);

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
      args.push(`--node-name=${l.nodeName}`, `--pod-name=${l.nodeName}`, `--netns-name=${l.gatewayNetns}`, `--state-dir=${l.stateDir}`);
      break;
    case 'natmapping-operator':
      args.push(`--node-name=${l.nodeName}`, `--netns-name=${l.gatewayNetns}`);
      break;
    case 'route-agent':
      args.push(`--node-name=${l.nodeName}`);
      break;
    case 'broker-sync':
      args.push(`--broker-kubeconfig=${l.brokerKubeconfig}`);
      break;
    case 'labeler-operator':
      break;
  }
  return args;
}
