import { describe, expect, it } from 'vitest';
import { MAX_IFNAME, RUN_ID_RE, belongsToRun, names, nodeLinkId, randomRunId, runPrefix } from './names.ts';

describe('topology names', () => {
  it('makes random run ids of 5 characters that start with a letter', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const id = randomRunId();
      expect(id).toMatch(/^t[a-z0-9]{4}$/);
      expect(id).toMatch(RUN_ID_RE);
      ids.add(id);
    }
    expect(ids.size).toBeGreaterThan(190);
  });

  it('prefixes every namespace and link with the run id', () => {
    const run = 'tab12';
    const n = { cluster: 3, role: 'g', index: 2 } as const;
    expect(nodeLinkId(n)).toBe('3g2');
    const all = [
      names.wanNetns(run),
      names.switchNetns(run, 'east'),
      names.nodeNetns(run, names.node('east', 'g', 2)),
      names.podNetns(run, names.pod(names.node('east', 'w', 1), 4)),
      names.externalNetns(run, names.external('east', 1)),
      names.bridge(run),
      names.nodeIf(run, n),
      names.nodePort(run, n),
      names.wanIf(run, n),
      names.wanPort(run, n),
      names.podIf(run, n, 7),
      names.podHostIf(run, n, 7),
      names.externalIf(run, 3, 1),
      names.externalPort(run, 3, 1),
    ];
    expect(all).toEqual([
      'tab12-wan',
      'tab12-east-sw',
      'tab12-east-g2',
      'tab12-east-w1-p4',
      'tab12-east-x1',
      'tab12-br',
      'tab12-3g2',
      'tab12-3g2s',
      'tab12-3g2w',
      'tab12-3g2ws',
      'tab12-3g2p7',
      'tab12-3g2p7h',
      'tab12-3x1',
      'tab12-3x1s',
    ]);
    for (const x of all) expect(belongsToRun(run, x)).toBe(true);
    expect(new Set(all).size).toBe(all.length);
  });

  it('fits 99 clusters × 99 nodes × 99 pods in 15 characters with a default run id', () => {
    const run = randomRunId();
    const n = { cluster: 99, role: 'w', index: 99 } as const;
    const longest = [names.podHostIf(run, n, 99), names.wanPort(run, { ...n, role: 'g' }), names.externalPort(run, 99, 999)];
    for (const l of longest) expect(l.length).toBeLessThanOrEqual(MAX_IFNAME);
    expect(names.podHostIf(run, n, 99)).toHaveLength(MAX_IFNAME);
  });

  it('does not confuse runs whose ids share a prefix', () => {
    expect(runPrefix('t1')).toBe('t1-');
    expect(belongsToRun('t1', 't12-a-g1')).toBe(false);
    expect(belongsToRun('t12', 't12-a-g1')).toBe(true);
    expect(belongsToRun('t1', 't1-wan')).toBe(true);
  });
});
