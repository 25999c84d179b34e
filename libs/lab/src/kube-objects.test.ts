import { describe, expect, it } from 'vitest';
import { gatewayPodObject, gatewayServiceObject, nodeObject, nodeStatus, runningPodStatus, servicePodObject } from './kube-objects.ts';
import type { LabNodeState } from './state.ts';

const gw: LabNodeState = { name: 'cluster-1-g1', cluster: 'cluster-1', role: 'gateway', netns: 'x-cluster-1-g1', ip: '192.168.1.2', wan: { ip: '172.31.0.1', ifname: 'x-1g1w' }, gatewayNetns: 'x-cluster-1-g1-sn', gatewayPod: 'strait-gateway-cluster-1-g1' };
const worker: LabNodeState = { name: 'cluster-1-w1', cluster: 'cluster-1', role: 'worker', netns: 'x-cluster-1-w1', ip: '192.168.1.4' };

describe('lab Kubernetes objects', () => {
  it('labels gateway nodes only; every node is Ready with its node-network InternalIP', () => {
    expect((nodeObject(gw) as { metadata: { labels: Record<string, string> } }).metadata.labels['strait.io/gateway']).toBe('true');
    expect((nodeObject(worker) as { metadata: { labels: Record<string, string> } }).metadata.labels['strait.io/gateway']).toBeUndefined();
    expect(nodeStatus(worker)).toMatchObject({ addresses: [{ type: 'InternalIP', address: '192.168.1.4' }, { type: 'Hostname', address: 'cluster-1-w1' }], conditions: [{ type: 'Ready', status: 'True' }] });
  });

  it('the gateway pod carries the labeler selector label, tolerates every taint and is Running/Ready at the node address', () => {
    const pod = gatewayPodObject(gw, 'strait-system') as { metadata: { name: string; labels: Record<string, string> }; spec: { nodeName: string; tolerations: unknown[] } };
    expect(pod.metadata.name).toBe('strait-gateway-cluster-1-g1');
    expect(pod.metadata.labels['app.kubernetes.io/name']).toBe('strait-gateway');
    expect(pod.spec).toMatchObject({ nodeName: 'cluster-1-g1', tolerations: [{ operator: 'Exists' }] });
    expect(runningPodStatus(gw)).toMatchObject({ phase: 'Running', podIP: '192.168.1.2' });
  });

  it('other replicas do not match the gateway selector; the Service selects only the active gateway', () => {
    const pod = servicePodObject('route-agent-cluster-1-w1', 'route-agent', worker, 'strait-system') as { metadata: { labels: Record<string, string> } };
    expect(pod.metadata.labels['app.kubernetes.io/name']).toBe('strait-route-agent');
    expect((gatewayServiceObject('strait-system') as { spec: { selector: Record<string, string> } }).spec.selector).toEqual({
      'app.kubernetes.io/name': 'strait-gateway',
      'app.kubernetes.io/instance': 'strait',
      'net.strait.io/gateway': 'active',
    });
  });
});
