import { describe, expect, it } from 'vitest';
import { renderStatus, table } from './table.ts';
import type { LabState } from './state.ts';

describe('table', () => {
  it('aligns columns', () => {
    expect(table(['A', 'BB'], [['xxx', 'y'], ['z', 'wwww']])).toBe('A    BB\nxxx  y\nz    wwww\n');
  });
});

describe('renderStatus', () => {
  const state: LabState = {
    version: 1,
    daemonPid: 1,
    startedAt: '2026-11-22T00:00:00.000Z',
    phase: 'ready',
    dir: '/lab',
    options: { clusters: 1, driver: 'wireguard', overlap: false, gateways: 2, workers: 1 },
    nodes: [],
    pods: [],
    controlPlanePids: [],
    nats: { url: 'nats://127.0.0.1:4222', user: 'strait', passwordFile: '/lab/secrets/nats-password' },
    clusters: [
      { name: 'cluster-1', role: 'member', server: 'https://127.0.0.1:6443', kubeconfig: '/k', podCidr: '10.1.0.0/16', pids: [], services: [] },
    ],
  };

  it('shows clusters, NATS and each service with its state and metrics address', () => {
    const out = renderStatus({
      state,
      daemonRunning: true,
      services: [
        { name: 'route-agent', cluster: 'cluster-1', node: 'cluster-1-w1', pid: 42, probe: 'http://127.0.0.1:9000', log: '/l', running: true, ready: false },
        { name: 'broker-sync', cluster: 'cluster-2', node: 'cluster-2-w1', pid: undefined, probe: 'http://127.0.0.1:9001', log: '/l', running: false, ready: false, held: true },
      ],
      views: [
        {
          cluster: 'cluster-1',
          holder: 'strait-gateway-cluster-1-g1',
          gateways: [
            { cluster: 'cluster-1', node: 'cluster-1-g1', pod: 'strait-gateway-cluster-1-g1', role: 'active' },
            { cluster: 'cluster-1', node: 'cluster-1-g2', pod: 'strait-gateway-cluster-1-g2', role: 'standby' },
          ],
          tunnels: [{ cluster: 'cluster-1', peer: 'cluster-2', backend: 'wireguard', endpoint: '172.31.0.4:51820', phase: 'Connected', rttMs: 0.42, peerCidr: '100.64.0.0/16', peerPodCidr: '10.0.0.0/16' }],
        },
      ],
    });
    expect(out).toContain('Lab: ready');
    expect(out).toMatch(/cluster-1\s+member\s+10\.1\.0\.0\/16\s+https:\/\/127\.0\.0\.1:6443/);
    expect(out).toContain('NATS: nats://127.0.0.1:4222');
    expect(out).toMatch(/route-agent\s+cluster-1-w1\s+42\s+not ready\s+0\s+http:\/\/127\.0\.0\.1:9000\/metrics/);
    expect(out).toMatch(/broker-sync\s+cluster-2-w1\s+-\s+held\s+/);
    expect(out).toMatch(/cluster-1\s+cluster-1-g1\s+strait-gateway-cluster-1-g1\s+active/);
    expect(out).toMatch(/cluster-1\s+cluster-1-g2\s+strait-gateway-cluster-1-g2\s+standby/);
    expect(out).toMatch(/cluster-1\s+cluster-2\s+wireguard\s+172\.31\.0\.4:51820\s+Connected\s+0\.42 ms\s+100\.64\.0\.0\/16 \(remap of 10\.0\.0\.0\/16\)/);
  });

  it('says when the owner process is gone', () => {
    expect(renderStatus({ state, daemonRunning: false, services: [] })).toContain('owner process not running');
  });
});
