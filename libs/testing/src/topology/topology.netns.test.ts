import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { IpLinks, IpRoutes, NetCommandError, RecordingRunner, execRunner, run, type CommandRunner } from '@strait/net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopologyBuildError, buildTopology } from './build.ts';
import { destroyRun } from './cleanup.ts';
import { TOPOLOGY_OWNER, TOPOLOGY_ROUTE_PROTO } from './desired.ts';
import { randomRunId } from './names.ts';
import { TopologySpecError } from './plan.ts';
import type { Topology } from './topology.ts';
import type { TopologySpec } from './types.ts';

/**
 * The topology on a real kernel: three clusters, two of them with the SAME pod CIDR, one with an
 * external host. Connectivity inside a cluster and over the WAN, isolation between clusters, TCP both
 * ways, the 100 packets/s loss probe on a healthy path and across a ~300 ms link outage, destroy, and
 * clean-up after failures (bad spec, runner failure half-way, process exit without destroy).
 */

const canRun = process.getuid?.() === 0;

async function runNamespaces(runId: string): Promise<string[]> {
  const out = (await run('ip', ['-j', 'netns', 'list'])).stdout.trim();
  const list = out === '' ? [] : (JSON.parse(out) as { name: string }[]);
  return list.map((n) => n.name).filter((n) => n.startsWith(`${runId}-`));
}

async function rootLinks(runId: string): Promise<string[]> {
  const list = JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as { ifname: string }[];
  return list.map((l) => l.ifname).filter((n) => n.startsWith(`${runId}-`));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const SPEC: TopologySpec = {
  clusters: [
    { name: 'a', podCIDR: '10.0.0.0/16' },
    { name: 'b', podCIDR: '10.0.0.0/16' },
    { name: 'c', podCIDR: '10.1.0.0/16', externalHosts: { cidr: '203.0.113.0/24' } },
  ],
};

describe.skipIf(!canRun)('topology on a real kernel', () => {
  let topo: Topology;

  beforeAll(async () => {
    const t0 = performance.now();
    topo = await buildTopology(SPEC);
    console.log(`topology ${topo.runId}: ${topo.namespaces.length} namespaces built in ${Math.round(performance.now() - t0)} ms`);
  });

  afterAll(async () => {
    if (!topo) return;
    await topo.destroy();
    expect(await runNamespaces(topo.runId)).toEqual([]);
    expect(await rootLinks(topo.runId)).toEqual([]);
  });

  it('creates every planned namespace, all with the run prefix', async () => {
    expect((await runNamespaces(topo.runId)).sort()).toEqual([...topo.namespaces].sort());
    expect(topo.namespaces).toHaveLength(1 + 3 * 7 + 1);
    expect(await rootLinks(topo.runId)).toEqual([]);
  });

  it('pods reach the pods of the other nodes of their cluster (host-gw routing), also with overlapping CIDRs', async () => {
    for (const c of topo.clusters) {
      const [first, ...others] = c.pods;
      for (const p of others) {
        const r = await topo.ping(first?.netns as string, p.ip, { count: 3, intervalMs: 20 });
        expect(r.received, `${first?.name} → ${p.name} (${p.ip}): ${r.problems.join('; ')}`).toBe(3);
      }
      // and back, from a worker's pod to a gateway's pod
      const r = await topo.ping(c.workers[0]?.pods[0]?.netns as string, c.gateways[1]?.pods[0]?.ip as string, { count: 2, intervalMs: 20 });
      expect(r.received).toBe(2);
    }
  });

  it('gateway nodes reach each other over the WAN, across clusters; workers are not on the WAN', async () => {
    const [from, ...others] = topo.gateways;
    expect(others).toHaveLength(5);
    for (const g of others) {
      const r = await topo.ping(from?.netns as string, g.wan?.ip as string, { count: 2, intervalMs: 20 });
      expect(r.received, `${from?.name} → ${g.name} over the WAN`).toBe(2);
    }
    const worker = topo.cluster('a').workers[0];
    const r = await topo.ping(worker?.netns as string, topo.cluster('c').gateways[0]?.wan?.ip as string, { count: 1, timeoutMs: 300 });
    expect(r.received).toBe(0);
  });

  it('nothing routes between clusters', async () => {
    const aPod = topo.cluster('a').pods[0];
    const cPod = topo.cluster('c').pods[2];
    const viaNode = await topo.ping(aPod?.netns as string, cPod?.ip as string, { count: 2, intervalMs: 20, timeoutMs: 300 });
    expect(viaNode.received).toBe(0);
    const fromGateway = await topo.ping(topo.cluster('a').gateways[0]?.netns as string, cPod?.ip as string, { count: 1, timeoutMs: 300 });
    expect(fromGateway.received).toBe(0);
    expect(fromGateway.problems.join(' ')).toMatch(/Network is unreachable/);
    // Node networks are isolated too (a's gateway has no route to c's node network).
    const node = await topo.ping(topo.cluster('a').gateways[0]?.netns as string, topo.cluster('c').nodes[0]?.ip as string, { count: 1, timeoutMs: 300 });
    expect(node.received).toBe(0);
    // Same pod CIDR: b's pod IP from a's pod is a's own pod with that address, never b's. A server in
    // b's pod is not reached (a's pod refuses the connection).
    const bPod = topo.cluster('b').workers[0]?.pods[0];
    const err = await topo.tcpTransfer(aPod?.netns as string, bPod?.netns as string, bPod?.ip as string, 1000, 1400, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('external hosts are reachable from every node and pod of their cluster only', async () => {
    const c = topo.cluster('c');
    const host = c.externalHosts[0];
    for (const n of c.nodes) expect((await topo.ping(n.netns, host?.ip as string, { count: 1 })).received).toBe(1);
    for (const p of c.pods) expect((await topo.ping(p.netns, host?.ip as string, { count: 1 })).received).toBe(1);
    expect((await topo.ping(topo.cluster('a').gateways[0]?.netns as string, host?.ip as string, { count: 1, timeoutMs: 300 })).received).toBe(0);
  });

  it('moves 1 MB with 1400-byte writes both ways between pods of a cluster', async () => {
    const a = topo.cluster('a');
    const from = a.gateways[0]?.pods[0];
    const to = a.workers[0]?.pods[0];
    const r = await topo.tcpTransfer(from?.netns as string, to?.netns as string, to?.ip as string, 1_000_000, 1400);
    console.log(`tcp 1 MB ${from?.name} → ${to?.name}: forward ${r.forward.ms} ms (${r.forward.mbitPerSec} Mbit/s), reverse ${r.reverse.ms} ms (${r.reverse.mbitPerSec} Mbit/s)`);
    expect(r.forward.bytes).toBe(1_000_000);
    expect(r.reverse.bytes).toBe(1_000_000);
    expect(r.writeSize).toBe(1400);
  });

  it('the 100 pps probe reports zero loss on a healthy path', async () => {
    const c = topo.cluster('c');
    const probe = await topo.startProbe(c.gateways[0]?.pods[0]?.netns as string, c.workers[0]?.pods[0]?.ip as string, { pps: 100 });
    await probe.firstReply();
    await sleep(2_000);
    const r = await probe.stop();
    console.log(`probe healthy: sent ${r.sent}, received ${r.received}, longest gap ${r.longestGapMs} ms, rtt ${JSON.stringify(r.rttMs)}`);
    expect(r.sent).toBeGreaterThanOrEqual(150);
    expect(r.lost).toBe(0);
    expect(r.lossWindows).toEqual([]);
    expect(r.longestGapMs).toBeLessThan(250);
  });

  it('the probe measures the gap of a ~300 ms link outage', async () => {
    const a = topo.cluster('a');
    const target = a.workers[0];
    const probe = await topo.startProbe(a.gateways[0]?.pods[0]?.netns as string, target?.pods[0]?.ip as string, { pps: 100 });
    await probe.firstReply();
    await sleep(500);
    const downAt = Date.now();
    await topo.setLinkUp(a.switchNetns, target?.switchPort as string, false);
    await sleep(300);
    await topo.setLinkUp(a.switchNetns, target?.switchPort as string, true);
    const upAt = Date.now();
    await sleep(700);
    const r = await probe.stop();
    console.log(
      `probe across a ${upAt - downAt} ms outage of ${target?.switchPort}: sent ${r.sent}, lost ${r.lost}, longest gap ${r.longestGapMs} ms, windows ${JSON.stringify(r.lossWindows.map((w) => ({ ms: w.ms, packets: w.packets, startsAfterDownMs: Math.round(w.from - downAt) })))}`,
    );
    expect(r.lost).toBeGreaterThan(10);
    expect(r.longestGapMs).toBeGreaterThan(200);
    expect(r.longestGapMs).toBeLessThan(3_000);
    const biggest = [...r.lossWindows].sort((x, y) => y.ms - x.ms)[0];
    expect(biggest?.ms).toBeGreaterThan(150);
    expect(biggest?.from).toBeGreaterThanOrEqual(downAt - 50);
    expect(biggest?.to).toBeLessThanOrEqual(upAt + 1_000);
  });

  it('marks its links and routes as its own, so Strait reconcilers in the same namespaces never see them', async () => {
    const g = topo.cluster('a').gateways[0];
    const links = await new IpLinks().list(g?.netns);
    const named = links.filter((l) => l.name !== 'lo');
    expect(named.every((l) => l.owner === TOPOLOGY_OWNER)).toBe(true);
    expect(await new IpRoutes().list(g?.netns)).toEqual([]); // Strait's proto 201: none
    const mine = await new IpRoutes().list(g?.netns, { proto: TOPOLOGY_ROUTE_PROTO });
    expect(mine.map((r) => r.dst).sort()).toEqual(['10.0.0.2/32', '10.0.1.0/24', '10.0.2.0/24']);
    const sysctl = await topo.exec(g?.netns as string, 'sysctl', ['-n', 'net.ipv4.ip_forward', 'net.ipv4.conf.all.rp_filter']);
    expect(sysctl.stdout.split('\n').slice(0, 2)).toEqual(['1', '2']);
  });

  it('exec runs in a namespace and reports failures with the command and namespace', async () => {
    const p = topo.cluster('b').pods[0];
    expect((await topo.exec(p?.netns as string, 'ip', ['-br', 'addr', 'show', 'dev', p?.ifname as string])).stdout).toContain(`${p?.ip}/32`);
    await expect(topo.exec(p?.netns as string, 'ip', ['link', 'show', 'dev', 'nope0'])).rejects.toThrow(NetCommandError);
    await expect(topo.exec(p?.netns as string, 'ip', ['link', 'show', 'dev', 'nope0'])).rejects.toThrow(`(netns ${p?.netns})`);
  });
});

describe.skipIf(!canRun)('topology clean-up on a real kernel', () => {
  const small: TopologySpec = { clusters: [{ name: 'a', podCIDR: '10.0.0.0/16' }, { name: 'b', podCIDR: '10.0.0.0/16', workers: 2 }] };
  const leftovers: string[] = [];

  afterAll(async () => {
    // Whatever a failed assertion left behind.
    for (const id of leftovers) await destroyRun(id);
  });

  it('destroy leaves no namespace or link with the run prefix, kills its helpers, and is idempotent', async () => {
    const topo = await buildTopology(small);
    leftovers.push(topo.runId);
    const [p1, p2] = topo.cluster('b').pods;
    const probe = await topo.startProbe(p1?.netns as string, p2?.ip as string);
    await probe.firstReply();
    expect(await runNamespaces(topo.runId)).toHaveLength(topo.namespaces.length);
    const report = await topo.destroy();
    expect(report.namespaces).toHaveLength(topo.namespaces.length);
    expect(report.rootLinks).toEqual([]);
    expect(await runNamespaces(topo.runId)).toEqual([]);
    expect(await rootLinks(topo.runId)).toEqual([]);
    expect(await topo.destroy()).toBe(report);
    expect(() => topo.exec(p1?.netns as string, 'true', [])).toThrow(/is destroyed/);
  });

  it('rejects a bad spec (a pod CIDR too small in the LAST cluster) before creating anything', async () => {
    const runId = randomRunId();
    const rec = new RecordingRunner(execRunner());
    const bad: TopologySpec = { runId, clusters: [...small.clusters, { name: 'c', podCIDR: '10.2.0.0/23', gateways: 2, workers: 1 }] };
    await expect(buildTopology(bad, { runner: rec })).rejects.toThrow(TopologySpecError);
    await expect(buildTopology(bad, { runner: rec })).rejects.toThrow(/clusters\[2\]\.podCIDR/);
    expect(rec.commands).toEqual([]);
    expect(await runNamespaces(runId)).toEqual([]);
  });

  for (const where of ['while configuring the nodes', 'while creating namespaces'] as const) {
    it(`removes everything after a runner failure half-way (${where})`, async () => {
      const runId = randomRunId();
      leftovers.push(runId);
      const real = execRunner();
      let injected = false;
      let seenBefore = 0;
      const failing: CommandRunner = {
        run(cmd, args, opts = {}) {
          const hit =
            where === 'while configuring the nodes'
              ? opts.netns === `${runId}-b-w2` && args.includes('-batch')
              : cmd === 'ip' && args[0] === 'netns' && args[1] === 'add' && args[2] === `${runId}-b-g1`;
          if (hit && !injected) {
            injected = true;
            return run('ip', ['-j', 'netns', 'list']).then((r) => {
              seenBefore = (JSON.parse(r.stdout || '[]') as { name: string }[]).filter((n) => n.name.startsWith(`${runId}-`)).length;
              throw new NetCommandError({ command: cmd, args: args as string[], ...(opts.netns ? { netns: opts.netns } : {}), exitCode: 2, stderr: 'RTNETLINK answers: No buffer space available (injected)' });
            });
          }
          return real.run(cmd, args, opts);
        },
      };
      const err = await buildTopology({ ...small, runId }, { runner: failing, concurrency: 2 }).catch((e: unknown) => e);
      expect(injected).toBe(true);
      expect(err).toBeInstanceOf(TopologyBuildError);
      expect((err as Error).message).toMatch(/injected\).*everything it created was removed/);
      console.log(`failure ${where}: ${seenBefore} namespaces existed when it hit; after clean-up: ${(await runNamespaces(runId)).length}`);
      expect(seenBefore).toBeGreaterThan(3);
      expect(await runNamespaces(runId)).toEqual([]);
      expect(await rootLinks(runId)).toEqual([]);
    });
  }

  it('the process-exit safety net removes a run whose process is interrupted without destroy()', async () => {
    const runId = randomRunId();
    leftovers.push(runId);
    const child = spawn(process.execPath, [resolve(import.meta.dirname, 'fixtures/build-and-wait.ts'), runId], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let errOut = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (errOut += d));
    const exited = new Promise<NodeJS.Signals | number | null>((res) => child.on('close', (code, signal) => res(signal ?? code)));
    for (let i = 0; i < 300 && !out.includes('"built"'); i++) await sleep(100);
    expect(out, errOut).toContain('"built"');
    const built = JSON.parse(out.split('\n').find((l) => l.includes('"built"')) as string) as { runId: string; namespaces: number };
    expect(built.runId).toBe(runId);
    expect(await runNamespaces(runId)).toHaveLength(built.namespaces);
    child.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    expect(await runNamespaces(runId)).toEqual([]);
    expect(await rootLinks(runId)).toEqual([]);
  });
});
