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
    options: { clusters: 1 },
    controlPlanePids: [],
    nats: { url: 'nats://127.0.0.1:4222', user: 'strait', passwordFile: '/lab/secrets/nats-password' },
    clusters: [
      { name: 'cluster-1', role: 'member', server: 'https://127.0.0.1:6443', kubeconfig: '/k', pids: [], services: [] },
    ],
  };

  it('shows clusters, NATS and each service with its state and metrics address', () => {
    const out = renderStatus({
      state,
      daemonRunning: true,
      services: [{ name: 'route-agent', cluster: 'cluster-1', pid: 42, probe: 'http://127.0.0.1:9000', log: '/l', running: true, ready: false }],
    });
    expect(out).toContain('Lab: ready');
    expect(out).toMatch(/cluster-1\s+member\s+https:\/\/127\.0\.0\.1:6443/);
    expect(out).toContain('NATS: nats://127.0.0.1:4222');
    expect(out).toMatch(/route-agent\s+42\s+not ready\s+http:\/\/127\.0\.0\.1:9000\/metrics/);
  });

  it('says when the owner process is gone', () => {
    expect(renderStatus({ state, daemonRunning: false, services: [] })).toContain('owner process not running');
  });
});
