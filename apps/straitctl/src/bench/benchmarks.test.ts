import { describe, expect, it } from 'vitest';
import { BENCHMARKS, failover, findBench, join, natScale, peers, throughput } from './benchmarks.ts';

describe('benchmark definitions', () => {
  it('every script gets --json; trials map to the script flag', () => {
    for (const b of BENCHMARKS) expect(b.args(undefined)).toContain('--json');
    expect(failover.args(undefined)).toEqual(['--json', '--rounds=3']);
    expect(failover.args(5)).toEqual(['--json', '--rounds=5']);
    expect(throughput.args(2)).toEqual(['--json', '--runs=2']);
    expect(findBench('nope')).toBeUndefined();
    expect(findBench('peers')).toBe(peers);
  });

  it('failover: p50 and max per kind against 300 ms / 2 s', () => {
    const samples = [
      { kind: 'graceful', longestGapMs: 210, lost: 20, sent: 400 },
      { kind: 'crash', longestGapMs: 1900, lost: 180, sent: 500 },
      { kind: 'graceful', longestGapMs: 180, lost: 17, sent: 400 },
      { kind: 'crash', longestGapMs: 2100, lost: 200, sent: 500 },
      { kind: 'graceful', longestGapMs: 350, lost: 34, sent: 400 },
      { kind: 'crash', longestGapMs: 1500, lost: 140, sent: 500 },
    ];
    const { figures, notes } = failover.summarise({ routeAgent: 'real', samples });
    expect(figures).toEqual([
      { name: 'graceful loss p50', value: 210, unit: 'ms', goal: { op: '<=', value: 300 } },
      { name: 'graceful loss max', value: 350, unit: 'ms', goal: { op: '<=', value: 300 } },
      { name: 'crash loss p50', value: 1900, unit: 'ms', goal: { op: '<=', value: 2000 } },
      { name: 'crash loss max', value: 2100, unit: 'ms', goal: { op: '<=', value: 2000 } },
    ]);
    expect(notes[0]).toBe('graceful, 3 trials: longest gap 210 ms (20/400 lost), 180 ms (17/400 lost), 350 ms (34/400 lost).');
  });

  it('failover: a result without crash samples or with a bad sample is an error', () => {
    expect(() => failover.summarise({ samples: [{ kind: 'graceful', longestGapMs: 1, lost: 0, sent: 1 }] })).toThrow('no crash samples');
    expect(() => failover.summarise({ samples: [{ kind: 'graceful', lost: 0, sent: 1 }] })).toThrow('no number at longestGapMs');
    expect(() => failover.summarise({})).toThrow('no list at samples');
  });

  it('nat-scale: apply all, one change both ways, the iptables baseline and ratios', () => {
    const st = (median: number, max: number) => ({ median, p90: median, min: median, max, n: 100 });
    const r = {
      entries: 10000,
      repeat: 100,
      iptablesRepeat: 10,
      loadavg1: 1.5,
      cpuPressureSomeAvg60: 3,
      nft: { applyAllMs: 420, oneChangeSessionMs: st(2.1, 9), oneChangeReconcilerMs: st(6.5, 30) },
      iptables: { perRuleAllMs: 90000, restoreAllMs: 800, oneRuleChangeMs: st(40, 50) },
      ratios: { applyAllIptablesPerRuleOverNft: 214.29, oneChangeIptablesOverSession: 19.05 },
    };
    const { figures } = natScale.summarise(r);
    expect(figures.map((f) => [f.name, f.value, f.goal?.value])).toEqual([
      ['apply 10000 entries (nft)', 420, 1000],
      ['apply 10000 entries (iptables, one process per rule)', 90000, undefined],
      ['apply 10000 entries (iptables-restore, reference)', 800, undefined],
      ['one change at 10000, apply path p50 (nft -i session)', 2.1, 20],
      ['one change at 10000, apply path max', 9, undefined],
      ['one change at 10000, watch event → kernel p50', 6.5, 20],
      ['one change at 10000, watch event → kernel max', 30, undefined],
      ['one change at 10000, iptables -R p50', 40, undefined],
      ['apply all: iptables per rule / nft', 214.29, undefined],
      ['one change: iptables / nft session', 19.05, undefined],
    ]);
  });

  it('throughput: ratio of the p50s per driver, goal ≥ 0.9', () => {
    const m = (driver: string, setup: string, gbps: number) => ({ driver, setup, run: 1, gbps, retransmits: 0 });
    const r = {
      seconds: 5,
      runs: 3,
      measurements: [m('wireguard', 'strait', 1.0), m('wireguard', 'by-hand', 1.1), m('wireguard', 'strait', 0.9), m('wireguard', 'by-hand', 1.0), m('wireguard', 'strait', 1.2), m('wireguard', 'by-hand', 1.3), m('vxlan', 'strait', 10), m('vxlan', 'by-hand', 10)],
    };
    const { figures } = throughput.summarise(r);
    expect(figures).toEqual([
      { name: 'wireguard: Strait / by hand', value: 0.909, unit: 'x', goal: { op: '>=', value: 0.9 } },
      { name: 'wireguard: Strait p50', value: 1.0, unit: 'Gbit/s' },
      { name: 'wireguard: by hand p50', value: 1.1, unit: 'Gbit/s' },
      { name: 'vxlan: Strait / by hand', value: 1, unit: 'x', goal: { op: '>=', value: 0.9 } },
      { name: 'vxlan: Strait p50', value: 10, unit: 'Gbit/s' },
      { name: 'vxlan: by hand p50', value: 10, unit: 'Gbit/s' },
    ]);
    expect(() => throughput.summarise({ seconds: 5, runs: 3, measurements: [] })).toThrow('no measurements');
  });

  it('peers: time to reconcile against 5 s and the RSS of every service', () => {
    const r = { peers: 100, allReconciledMs: 2300, devicePeersMs: 2300, statusesMs: 2100, rssMiB: { 'tunnel-operator (active, 100 peers)': 120.5, 'broker-sync': 80 }, notes: ['n'] };
    const { figures, notes } = peers.summarise(r);
    expect(figures).toEqual([
      { name: '100 peers reconciled (status and device)', value: 2300, unit: 'ms', goal: { op: '<=', value: 5000 } },
      { name: '100 peers on the WireGuard device', value: 2300, unit: 'ms' },
      { name: '100 statuses current', value: 2100, unit: 'ms' },
      { name: 'RSS tunnel-operator (active, 100 peers)', value: 120.5, unit: 'MiB' },
      { name: 'RSS broker-sync', value: 80, unit: 'MiB' },
    ]);
    expect(notes).toEqual(['n']);
    expect(() => peers.summarise({ ...r, rssMiB: undefined })).toThrow('rssMiB is not an object');
  });

  it('join: p50 and max of every stage, the first packet against 2 s', () => {
    const t = (firstPacketMs: number) => ({ brokerSyncReadyMs: 700, brokerEndpointMs: 900, tunnelEndpointsMs: 1000, connectedMs: 1500, firstPacketMs, absentMs: 20_400 });
    const r = { trials: [t(1700), t(1600), t(2600)], notes: ['method'] };
    expect(join.args(undefined)).toEqual(['--json', '--trials=3']);
    expect(join.args(5)).toEqual(['--json', '--trials=5']);
    const { figures, notes } = join.summarise(r);
    expect(figures.map((f) => [f.name, f.value, f.goal?.value])).toEqual([
      ["cluster-2's broker-sync ready p50", 700, undefined],
      ["cluster-2's broker-sync ready max", 700, undefined],
      ["cluster-2's Endpoint on the Broker p50", 900, undefined],
      ["cluster-2's Endpoint on the Broker max", 900, undefined],
      ['TunnelEndpoints on both sides p50', 1000, undefined],
      ['TunnelEndpoints on both sides max', 1000, undefined],
      ['both TunnelEndpoints Connected p50', 1500, undefined],
      ['both TunnelEndpoints Connected max', 1500, undefined],
      ['first packet across (echo reply) p50', 1700, 2000],
      ['first packet across (echo reply) max', 2600, 2000],
      ['broker-sync ready → first packet p50', 1000, undefined],
      ['broker-sync ready → first packet max', 1900, undefined],
    ]);
    expect(notes[0]).toBe(
      "trial 1: cluster-2's broker-sync ready 700 ms, cluster-2's Endpoint on the Broker 900 ms, TunnelEndpoints on both sides 1000 ms, both TunnelEndpoints Connected 1500 ms, first packet across (echo reply) 1700 ms; absent for 20 s before the release.",
    );
    expect(notes.at(-1)).toBe('method');
    expect(() => join.summarise({ trials: [] })).toThrow('no trials');
    expect(() => join.summarise({ trials: [{ ...t(1), connectedMs: undefined }] })).toThrow('no number at connectedMs');
  });
});
