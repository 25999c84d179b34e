import { arrayAt, numberAt, ResultLineError } from './result-line.ts';
import type { Figure } from './report.ts';
import { spread } from './stats.ts';

/**
 * The benchmarks `straitctl bench NAME` knows. Each one is a script beside the code it measures
 * (apps never import other apps), run as a child process with `--json`; its last stdout line is its
 * result, turned here into named figures with goals (DESIGN.md "numbers to beat", docs/adr/0004).
 */

export interface BenchDefinition {
  readonly name: string;
  /** One sentence for the summary and the docs section. */
  readonly title: string;
  /** Script path from the repository root. */
  readonly script: string;
  /** Trials when --trials is not given; undefined: the benchmark takes no --trials. */
  readonly defaultTrials: number | undefined;
  /** The script's arguments (always with --json). */
  args(trials: number | undefined): string[];
  summarise(result: Record<string, unknown>): { figures: Figure[]; notes: string[] };
}

const FAILOVER_SCRIPT = 'apps/tunnel-operator/bench/failover.bench.ts';
const NAT_SCALE_SCRIPT = 'apps/natmapping-operator/bench/nat-scale.bench.ts';
const THROUGHPUT_SCRIPT = 'libs/drivers/bench/throughput.bench.ts';
const PEERS_SCRIPT = 'apps/tunnel-operator/bench/peers.bench.ts';
const JOIN_SCRIPT = 'apps/straitctl/bench/join.bench.ts';

const GOALS = { gracefulMs: 300, crashMs: 2000, natApplyAllMs: 1000, natOneChangeMs: 20, throughputRatio: 0.9, peersMs: 5000, joinMs: 2000 } as const;

interface Sample {
  kind: string;
  longestGapMs: number;
  lost: number;
  sent: number;
}

function record(v: unknown, what: string, script: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ResultLineError(`${script}: ${what} is not an object`);
  return v as Record<string, unknown>;
}

export const failover: BenchDefinition = {
  name: 'failover',
  title:
    'Datapath loss of a gateway handover: longest gap of a 100 packets/s UDP probe pod → pod between two simulated clusters (real kube-apiservers, tunnel-operator and route-agent processes, WireGuard), per trial one graceful handover (SIGTERM to the active operator) and one crash (SIGKILL and its node cut off).',
  script: FAILOVER_SCRIPT,
  defaultTrials: 3,
  args: (trials) => ['--json', `--rounds=${trials ?? 3}`],
  summarise(result) {
    const samples: Sample[] = arrayAt(result, 'samples', FAILOVER_SCRIPT).map((s, i) => {
      const o = record(s, `samples[${i}]`, FAILOVER_SCRIPT);
      return { kind: String(o['kind']), longestGapMs: numberAt(o, 'longestGapMs', FAILOVER_SCRIPT), lost: numberAt(o, 'lost', FAILOVER_SCRIPT), sent: numberAt(o, 'sent', FAILOVER_SCRIPT) };
    });
    const figures: Figure[] = [];
    const notes: string[] = [];
    for (const [kind, goal] of [['graceful', GOALS.gracefulMs], ['crash', GOALS.crashMs]] as const) {
      const of = samples.filter((s) => s.kind === kind);
      if (of.length === 0) throw new ResultLineError(`${FAILOVER_SCRIPT}: no ${kind} samples in the result`);
      const s = spread(of.map((x) => x.longestGapMs));
      figures.push({ name: `${kind} loss p50`, value: s.p50, unit: 'ms', goal: { op: '<=', value: goal } });
      figures.push({ name: `${kind} loss max`, value: s.max, unit: 'ms', goal: { op: '<=', value: goal } });
      notes.push(`${kind}, ${s.n} trials: longest gap ${of.map((x) => `${x.longestGapMs} ms (${x.lost}/${x.sent} lost)`).join(', ')}.`);
    }
    notes.push(`Route-agent: ${String(result['routeAgent'] ?? 'real')}; the loss is the longest gap between two replies at 100 packets/s (10 ms resolution).`);
    return { figures, notes };
  },
};

export const natScale: BenchDefinition = {
  name: 'nat-scale',
  title:
    "NAT mapping scale through natmapping-operator's own apply path (nftables maps in one transaction): N NatMapping entries applied, and one changed entry at N, next to per-rule iptables DNAT in the same run, in a throwaway network namespace.",
  script: NAT_SCALE_SCRIPT,
  defaultTrials: undefined,
  args: () => ['--json'],
  summarise(r) {
    const s = NAT_SCALE_SCRIPT;
    const n = numberAt(r, 'entries', s);
    const figures: Figure[] = [
      { name: `apply ${n} entries (nft)`, value: numberAt(r, 'nft.applyAllMs', s), unit: 'ms', goal: { op: '<=', value: GOALS.natApplyAllMs } },
      { name: `apply ${n} entries (iptables, one process per rule)`, value: numberAt(r, 'iptables.perRuleAllMs', s), unit: 'ms' },
      { name: `apply ${n} entries (iptables-restore, reference)`, value: numberAt(r, 'iptables.restoreAllMs', s), unit: 'ms' },
      { name: `one change at ${n}, apply path p50 (nft -i session)`, value: numberAt(r, 'nft.oneChangeSessionMs.median', s), unit: 'ms', goal: { op: '<=', value: GOALS.natOneChangeMs } },
      { name: `one change at ${n}, apply path max`, value: numberAt(r, 'nft.oneChangeSessionMs.max', s), unit: 'ms' },
      { name: `one change at ${n}, watch event → kernel p50`, value: numberAt(r, 'nft.oneChangeReconcilerMs.median', s), unit: 'ms', goal: { op: '<=', value: GOALS.natOneChangeMs } },
      { name: `one change at ${n}, watch event → kernel max`, value: numberAt(r, 'nft.oneChangeReconcilerMs.max', s), unit: 'ms' },
      { name: `one change at ${n}, iptables -R p50`, value: numberAt(r, 'iptables.oneRuleChangeMs.median', s), unit: 'ms' },
      { name: 'apply all: iptables per rule / nft', value: numberAt(r, 'ratios.applyAllIptablesPerRuleOverNft', s), unit: 'x' },
      { name: 'one change: iptables / nft session', value: numberAt(r, 'ratios.oneChangeIptablesOverSession', s), unit: 'x' },
    ];
    const notes = [
      `${numberAt(r, 'repeat', s)} measured changes (after warm-up), ${numberAt(r, 'iptablesRepeat', s)} for iptables; load average ${String(r['loadavg1'])}, CPU pressure (some, avg60) ${String(r['cpuPressureSomeAvg60'])} %. Method: docs/benchmarks/nat-scale.md.`,
    ];
    return { figures, notes };
  },
};

export const throughput: BenchDefinition = {
  name: 'throughput',
  title:
    "iperf3 pod → pod through each cable driver as Strait sets it up, next to the same technology configured by hand on an identical pair of namespaces (runs alternate between the two); the ratio is Strait's p50 over the by-hand p50.",
  script: THROUGHPUT_SCRIPT,
  defaultTrials: 3,
  args: (trials) => ['--json', `--runs=${trials ?? 3}`],
  summarise(r) {
    const s = THROUGHPUT_SCRIPT;
    const measurements = arrayAt(r, 'measurements', s).map((m, i) => record(m, `measurements[${i}]`, s));
    const drivers = [...new Set(measurements.map((m) => String(m['driver'])))];
    if (drivers.length === 0) throw new ResultLineError(`${s}: no measurements in the result`);
    const figures: Figure[] = [];
    const notes: string[] = [];
    for (const d of drivers) {
      const gbps = (setup: string): number[] => measurements.filter((m) => m['driver'] === d && m['setup'] === setup).map((m) => numberAt(m, 'gbps', s));
      const strait = spread(gbps('strait'));
      const hand = spread(gbps('by-hand'));
      figures.push({ name: `${d}: Strait / by hand`, value: Math.round((strait.p50 / hand.p50) * 1000) / 1000, unit: 'x', goal: { op: '>=', value: GOALS.throughputRatio } });
      figures.push({ name: `${d}: Strait p50`, value: strait.p50, unit: 'Gbit/s' });
      figures.push({ name: `${d}: by hand p50`, value: hand.p50, unit: 'Gbit/s' });
      notes.push(`${d}: Strait ${gbps('strait').join(', ')} Gbit/s; by hand ${gbps('by-hand').join(', ')} Gbit/s.`);
    }
    notes.push(`${numberAt(r, 'runs', s)} runs of ${numberAt(r, 'seconds', s)} s per setup after one warm-up run; wireguard through wireguard-go, IPsec through charon with kernel-libipsec (userspace), VXLAN in the kernel.`);
    return { figures, notes };
  },
};

export const peers: BenchDefinition = {
  name: 'peers',
  title:
    'One gateway (a real tunnel-operator process in a network namespace, against a real kube-apiserver) given 100 WireGuard TunnelEndpoints at once: time until every one is reconciled (status observedGeneration current and phase set) and the WireGuard device holds all the peers; then the resident memory (VmRSS) of every service process.',
  script: PEERS_SCRIPT,
  defaultTrials: undefined,
  args: () => ['--json'],
  summarise(r) {
    const s = PEERS_SCRIPT;
    const n = numberAt(r, 'peers', s);
    const figures: Figure[] = [
      { name: `${n} peers reconciled (status and device)`, value: numberAt(r, 'allReconciledMs', s), unit: 'ms', goal: { op: '<=', value: GOALS.peersMs } },
      { name: `${n} peers on the WireGuard device`, value: numberAt(r, 'devicePeersMs', s), unit: 'ms' },
      { name: `${n} statuses current`, value: numberAt(r, 'statusesMs', s), unit: 'ms' },
    ];
    const rss = record(r['rssMiB'], 'rssMiB', s);
    for (const service of Object.keys(rss)) figures.push({ name: `RSS ${service}`, value: numberAt(rss, service, s), unit: 'MiB' });
    const notes = Array.isArray(r['notes']) ? r['notes'].map(String) : [];
    return { figures, notes };
  },
};

/** The stages of a join, in the order they happen, as the script's result names them (ms from broker-sync's start). */
const JOIN_STAGES = [
  ['brokerSyncReadyMs', "cluster-2's broker-sync ready"],
  ['brokerEndpointMs', "cluster-2's Endpoint on the Broker"],
  ['tunnelEndpointsMs', 'TunnelEndpoints on both sides'],
  ['connectedMs', 'both TunnelEndpoints Connected'],
  ['firstPacketMs', 'first packet across (echo reply)'],
] as const;

export const join: BenchDefinition = {
  name: 'join',
  title:
    "A cluster re-joining a running lab (Broker + 2 clusters, default driver; cluster-2's control plane, gateways and pods keep running while its broker-sync is held and every trace of it is removed from the Broker and from both clusters, until the path is down): from broker-sync's start to its Endpoint on the Broker, the TunnelEndpoints on both sides, both Connected, and the first packet of a pod of cluster-1 answered by a pod of cluster-2.",
  script: JOIN_SCRIPT,
  defaultTrials: 3,
  args: (trials) => ['--json', `--trials=${trials ?? 3}`],
  summarise(r) {
    const s = JOIN_SCRIPT;
    const trials = arrayAt(r, 'trials', s).map((t, i) => record(t, `trials[${i}]`, s));
    if (trials.length === 0) throw new ResultLineError(`${s}: no trials in the result`);
    const figures: Figure[] = [];
    for (const [key, label] of JOIN_STAGES) {
      const v = spread(trials.map((t) => numberAt(t, key, s)));
      const goal = key === 'firstPacketMs' ? { goal: { op: '<=' as const, value: GOALS.joinMs } } : {};
      figures.push({ name: `${label} p50`, value: v.p50, unit: 'ms', ...goal });
      figures.push({ name: `${label} max`, value: v.max, unit: 'ms', ...goal });
    }
    // What the rest of the datapath adds once broker-sync serves (its process start is most of the headline).
    const afterReady = spread(trials.map((t) => numberAt(t, 'firstPacketMs', s) - numberAt(t, 'brokerSyncReadyMs', s)));
    figures.push({ name: 'broker-sync ready → first packet p50', value: afterReady.p50, unit: 'ms' });
    figures.push({ name: 'broker-sync ready → first packet max', value: afterReady.max, unit: 'ms' });
    const notes = trials.map(
      (t, i) => `trial ${i + 1}: ${JOIN_STAGES.map(([key, label]) => `${label} ${numberAt(t, key, s)} ms`).join(', ')}; absent for ${Math.round(numberAt(t, 'absentMs', s) / 1000)} s before the release.`,
    );
    if (Array.isArray(r['notes'])) notes.push(...r['notes'].map(String));
    return { figures, notes };
  },
};

export const BENCHMARKS: readonly BenchDefinition[] = [failover, natScale, throughput, peers, join];

export function benchNames(): string[] {
  return BENCHMARKS.map((b) => b.name);
}

export function findBench(name: string): BenchDefinition | undefined {
  return BENCHMARKS.find((b) => b.name === name);
}
