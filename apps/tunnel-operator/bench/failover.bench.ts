/**
 * Failover benchmark: datapath loss of a gateway handover between two simulated clusters, measured
 * by a 100 pps UDP probe from a worker pod of cluster a to a worker pod of cluster b (root; real
 * kube-apiservers, every tunnel-operator a process in its node, WireGuard through wireguard-go).
 *
 *   graceful: SIGTERM to the active operator of cluster a (it releases the Lease);
 *   crash:    SIGKILL to the active operator and its node's WAN link down (the node is gone).
 *
 * After each handover the old node is brought back and its operator restarted (standby).
 * Non-gateway nodes follow the active gateway through the real route-agent on every node (vx-strait
 * overlay; default) or, with `--route-agent=stand-in`, the lab's stand-in that polls the Lease every
 * 20 ms and rewrites the worker's route (the figures of docs/adr/0004 were taken with it).
 * Prints a table and one JSON line. Goals (docs/adr/0004): ≤ 300 ms graceful, ≤ 2 s crash.
 *
 *   npx node apps/tunnel-operator/bench/failover.bench.ts [--rounds=3] [--same-pod-cidr] [--route-agent=real|stand-in] [--json]
 *
 * --json: the JSON line is the last line of stdout (it always is; the flag is accepted for `straitctl bench`).
 */
import { GatewayLab, until } from '../src/testing/gateway-lab.ts';

const args = process.argv.slice(2);
const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.split('=')[1] ?? 3);
const samePodCidr = args.includes('--same-pod-cidr');
const routeAgent = args.find((a) => a.startsWith('--route-agent='))?.split('=')[1] ?? 'real';
if (routeAgent !== 'real' && routeAgent !== 'stand-in') {
  console.error('--route-agent must be real or stand-in');
  process.exit(2);
}
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error('--rounds must be a positive integer');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('failover.bench.ts needs root (network namespaces)');
  process.exit(2);
}

interface Sample {
  kind: 'graceful' | 'crash';
  from: string;
  to: string;
  longestGapMs: number;
  lost: number;
  sent: number;
  /** New leader: from onStartedLeading to every peer connected and the host rules applied. */
  activationMs: number;
  /** Real route-agent on the worker: Lease change observed → its routes re-pointed (from its log). */
  workerRepointMs: number | undefined;
}

const lab = await GatewayLab.start({ samePodCidr, realRouteAgent: routeAgent === 'real' });
const samples: Sample[] = [];
try {
  await lab.createTunnelEndpoints();
  if (routeAgent === 'stand-in') lab.startRouteAgent();
  const worker = lab.cluster('a').info.workers[0]!.name;
  const src = lab.cluster('a').info.workers[0]!.pods[0]!;
  const dst = lab.cluster('b').info.workers[0]!.pods[0]!;
  const target = lab.addressFromPeer('b', dst.ip);
  await until('first packet a → b', async () => ((await lab.topo.ping(src.netns, target, { count: 1, timeoutMs: 1000 })).received === 1 ? true : undefined), 60_000, 200);
  for (let i = 0; i < rounds; i++) {
    for (const kind of ['graceful', 'crash'] as const) {
      const holder = await lab.holder('a');
      const node = lab.topo.node(holder);
      const probe = await lab.topo.startProbe(src.netns, target, { pps: 100, toNetns: dst.netns });
      await probe.firstReply();
      await new Promise((r) => setTimeout(r, 1000));
      const op = lab.operators.get(holder)!;
      if (kind === 'graceful') await op.stop('SIGTERM');
      else {
        await op.stop('SIGKILL');
        await lab.topo.setLinkUp(node.netns, node.wan!.ifname, false);
      }
      const next = await until('a new leader', async () => {
        const h = await lab.holder('a');
        return h && h !== holder ? h : undefined;
      }, 30_000, 20);
      await until('traffic again', async () => ((await lab.topo.ping(src.netns, target, { count: 1, timeoutMs: 500 })).received === 1 ? true : undefined), 30_000, 50);
      await new Promise((r) => setTimeout(r, 1500));
      const r = await probe.stop();
      const activations = [...(lab.operators.get(next)?.out ?? '').matchAll(/"ms":(\d+),"msg":"active gateway/g)];
      const activationMs = Number(activations.at(-1)?.[1] ?? NaN);
      const repoints = [...(lab.routeAgents.get(worker)?.out ?? '').matchAll(/"transition":"Repointed"[^\n]*?"ms":(\d+)/g)];
      const workerRepointMs = routeAgent === 'real' ? Number(repoints.at(-1)?.[1] ?? NaN) : undefined;
      samples.push({ kind, from: holder, to: next, longestGapMs: Math.round(r.longestGapMs), lost: r.lost, sent: r.sent, activationMs, workerRepointMs });
      process.stderr.write(
        `round ${i + 1} ${kind}: ${holder} → ${next}, longest gap ${Math.round(r.longestGapMs)} ms, lost ${r.lost}/${r.sent}, new leader activated in ${activationMs} ms` +
          `${workerRepointMs !== undefined ? `, worker re-pointed by route-agent in ${workerRepointMs} ms` : ''}\n`,
      );
      if (kind === 'crash') await lab.topo.setLinkUp(node.netns, node.wan!.ifname, true);
      await lab.startOperator(holder).waitFor(/"msg":"started"/);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
} finally {
  await lab.stop();
}

function summary(kind: Sample['kind'], goalMs: number) {
  const s = samples.filter((x) => x.kind === kind).map((x) => x.longestGapMs).sort((a, b) => a - b);
  const median = s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
  return { kind, runs: s.length, minMs: s[0], medianMs: median, maxMs: s.at(-1), goalMs, medianWithinGoal: median <= goalMs };
}
const rows = [summary('graceful', 300), summary('crash', 2000)];
console.log('| handover | runs | longest gap min | median | max | goal |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.kind} | ${r.runs} | ${r.minMs} ms | ${r.medianMs} ms | ${r.maxMs} ms | ≤ ${r.goalMs} ms |`);
console.log(JSON.stringify({ benchmark: 'tunnel-operator failover', samePodCidr, routeAgent, probePps: 100, summary: rows, samples }));
