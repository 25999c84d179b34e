import { describe, expect, it } from 'vitest';
import { parsePing, planProbes } from './check.ts';
import { translate, type ClusterView } from './cluster-view.ts';
import type { LabState } from './state.ts';

const state = {
  clusters: [
    { name: 'broker', role: 'broker' },
    { name: 'cluster-1', role: 'member' },
    { name: 'cluster-2', role: 'member' },
  ],
  nodes: [
    { name: 'cluster-1-g1', cluster: 'cluster-1', role: 'gateway' },
    { name: 'cluster-1-w1', cluster: 'cluster-1', role: 'worker' },
    { name: 'cluster-2-g1', cluster: 'cluster-2', role: 'gateway' },
    { name: 'cluster-2-w1', cluster: 'cluster-2', role: 'worker' },
  ],
  pods: [
    { name: 'cluster-1-g1-p1', cluster: 'cluster-1', node: 'cluster-1-g1', netns: 'x-cluster-1-g1-p1', ip: '10.0.1.2' },
    { name: 'cluster-1-w1-p1', cluster: 'cluster-1', node: 'cluster-1-w1', netns: 'x-cluster-1-w1-p1', ip: '10.0.2.2' },
    { name: 'cluster-2-g1-p1', cluster: 'cluster-2', node: 'cluster-2-g1', netns: 'x-cluster-2-g1-p1', ip: '10.0.1.2' },
    { name: 'cluster-2-w1-p1', cluster: 'cluster-2', node: 'cluster-2-w1', netns: 'x-cluster-2-w1-p1', ip: '10.0.2.2' },
  ],
} as unknown as LabState;

const tunnel = (cluster: string, peer: string, peerCidr: string) => ({ cluster, peer, backend: 'wireguard', endpoint: '', phase: 'Connected', rttMs: 1, peerCidr, peerPodCidr: '10.0.0.0/16' });

describe('planProbes', () => {
  it('probes every ordered pair of members from a worker pod, at the remapped address the source knows the target by', () => {
    const views: ClusterView[] = [
      { cluster: 'cluster-1', holder: '', gateways: [], tunnels: [tunnel('cluster-1', 'cluster-2', '100.64.0.0/16')] },
      { cluster: 'cluster-2', holder: '', gateways: [], tunnels: [tunnel('cluster-2', 'cluster-1', '100.65.0.0/16')] },
    ];
    const probes = planProbes(state, views);
    expect(probes.map((p) => [p.from, p.to, p.source.name, p.address])).toEqual([
      ['cluster-1', 'cluster-2', 'cluster-1-w1-p1', '100.64.2.2'],
      ['cluster-2', 'cluster-1', 'cluster-2-w1-p1', '100.65.2.2'],
    ]);
  });

  it('leaves the address unset when the source has no TunnelEndpoint to the target', () => {
    expect(planProbes(state, []).every((p) => p.address === undefined)).toBe(true);
  });
});

describe('translate / parsePing', () => {
  it('keeps the host part under the new prefix', () => {
    expect(translate('10.0.3.7', '10.0.0.0/16', '100.66.0.0/16')).toBe('100.66.3.7');
    expect(translate('10.2.3.7', '10.2.0.0/16', '10.2.0.0/16')).toBe('10.2.3.7');
  });

  it('reads sent/received and the average RTT', () => {
    const out = '3 packets transmitted, 3 received, 0% packet loss, time 402ms\nrtt min/avg/max/mdev = 0.311/0.402/0.511/0.081 ms\n';
    expect(parsePing(out)).toEqual({ sent: 3, received: 3, avgMs: 0.402 });
    expect(parsePing('3 packets transmitted, 0 received, 100% packet loss')).toEqual({ sent: 3, received: 0, avgMs: undefined });
  });
});
