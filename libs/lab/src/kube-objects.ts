import { GATEWAY_APP_LABEL, GATEWAY_APP_LABEL_VALUE, GATEWAY_ROLE_LABEL } from '@strait/api';
import type { LabNodeState } from './state.ts';

/** Label of gateway nodes (where the tunnel-operator DaemonSet runs). */
export const GATEWAY_NODE_LABEL = 'strait.io/gateway';
/** The Service remote gateways reach the active gateway through. */
export const GATEWAY_SERVICE = 'strait-gateway';

/** The Node object of a simulated node: its node-network address as InternalIP, gateways labelled, Ready. */
export function nodeObject(n: LabNodeState): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, ...(n.role === 'gateway' ? { [GATEWAY_NODE_LABEL]: 'true' } : {}) } },
    spec: {},
  };
}

export function nodeStatus(n: LabNodeState, now = new Date()): Record<string, unknown> {
  return {
    addresses: [
      { type: 'InternalIP', address: n.ip },
      { type: 'Hostname', address: n.name },
    ],
    conditions: [{ type: 'Ready', status: 'True', reason: 'StraitLab', message: 'simulated node', lastHeartbeatTime: now.toISOString(), lastTransitionTime: now.toISOString() }],
  };
}

/**
 * The Pod object of a tunnel-operator replica on a gateway node (hostNetwork: its pod IP is the node's
 * address). It tolerates every taint, as the DaemonSet does, so the node lifecycle controller of a lab
 * without kubelets never evicts it.
 */
export function gatewayPodObject(n: LabNodeState, namespace: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: n.gatewayPod, namespace, labels: { [GATEWAY_APP_LABEL]: GATEWAY_APP_LABEL_VALUE, 'app.kubernetes.io/instance': 'strait' } },
    spec: {
      nodeName: n.name,
      hostNetwork: true,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'tunnel-operator',
          image: 'strait/tunnel-operator:lab',
          ports: [
            { name: 'wireguard', containerPort: 51820, protocol: 'UDP' },
            { name: 'ike', containerPort: 500, protocol: 'UDP' },
            { name: 'ike-natt', containerPort: 4500, protocol: 'UDP' },
          ],
        },
      ],
    },
  };
}

export function runningPodStatus(n: LabNodeState, now = new Date()): Record<string, unknown> {
  const t = now.toISOString();
  return {
    phase: 'Running',
    hostIP: n.ip,
    podIP: n.ip,
    podIPs: [{ ip: n.ip }],
    startTime: t,
    conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: t })),
  };
}

/** The gateway Service: selects only the pod the labeler keeps labelled `net.strait.io/gateway=active`. */
export function gatewayServiceObject(namespace: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: GATEWAY_SERVICE, namespace },
    spec: {
      type: 'ClusterIP',
      selector: { [GATEWAY_APP_LABEL]: GATEWAY_APP_LABEL_VALUE, 'app.kubernetes.io/instance': 'strait', [GATEWAY_ROLE_LABEL]: 'active' },
      ports: [
        { name: 'wireguard', protocol: 'UDP', port: 51820, targetPort: 51820 },
        { name: 'ike', protocol: 'UDP', port: 500, targetPort: 500 },
        { name: 'ike-natt', protocol: 'UDP', port: 4500, targetPort: 4500 },
      ],
    },
  };
}

/**
 * The Pod object of another service replica (natmapping-operator, route-agent, labeler-operator,
 * broker-sync): on its node, hostNetwork (in the lab every process shares its node's network namespace),
 * tolerating every taint, labelled `app.kubernetes.io/name=strait-<service>`.
 */
export function servicePodObject(name: string, service: string, n: LabNodeState, namespace: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { [GATEWAY_APP_LABEL]: `strait-${service}`, 'app.kubernetes.io/instance': 'strait' } },
    spec: { nodeName: n.name, hostNetwork: true, tolerations: [{ operator: 'Exists' }], containers: [{ name: service, image: `strait/${service}:lab` }] },
  };
}
