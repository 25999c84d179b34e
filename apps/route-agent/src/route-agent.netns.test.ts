import { fileURLToPath } from 'node:url';
import { ROUTE_AGENT_PROBE_PORT, TwoClusterLab, until } from '@strait/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overlayAddress } from './overlay.ts';

/**
 * route-agent end to end: two clusters (own API servers, 2 gateway nodes + 1 worker each, real
 * tunnel-operators over WireGuard), a real route-agent process in EVERY node namespace. Pods on the
 * non-gateway nodes reach the other cluster through vx-strait to the active gateway node; after a
 * gateway failover every node is re-pointed (the time is printed); a restart adopts; uninstall
 * removes exactly route-agent's state.
 */

const isRoot = process.getuid?.() === 0;
const OPERATOR_MAIN = fileURLToPath(new URL('../../tunnel-operator/src/main.ts', import.meta.url));
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

for (const samePodCidr of [false, true]) {
  describe.skipIf(!isRoot)(`route-agent on every node of two clusters (${samePodCidr ? 'the same pod CIDR, remapped' : 'distinct pod CIDRs'})`, () => {
    let lab: TwoClusterLab;

    beforeAll(async () => {
      lab = new TwoClusterLab({ operatorMain: OPERATOR_MAIN, routeAgentMain: MAIN, samePodCidr });
      await lab.init();
      await lab.createTunnelEndpoints();
    }, 300_000);

    afterAll(async () => {
      await lab?.stop();
    }, 120_000);

    const workerPod = (c: string) => lab.cluster(c).info.workers[0]!.pods[0]!;
    const ns = (node: string) => lab.topo.node(node).netns;
    const sh = async (node: string, cmd: string, args: string[]) => (await lab.topo.exec(ns(node), cmd, args)).stdout;
    const agentRoutes = (node: string) => sh(node, 'ip', ['-4', 'route', 'show', 'proto', '202']).then((s) => s.trim());
    /** route-agent's static fdb entries (learnt ones are the kernel's). */
    const fdb = (node: string) => sh(node, 'bridge', ['fdb', 'show', 'dev', 'vx-strait']).then((s) => s.split('\n').filter((l) => l.includes('dst') && l.includes('permanent')).join('\n'));
    const overlayOf = (node: string) => overlayAddress('240.0.0.0/8', lab.topo.node(node).ip);
    const reach = (fromNetns: string, to: string, timeoutMs = 60_000) =>
      until(`ping ${fromNetns} → ${to}`, async () => ((await lab.topo.ping(fromNetns, to, { count: 1, timeoutMs: 1000 })).received === 1 ? true : undefined), timeoutMs, 200);
    const events = async (c: string) =>
      ((await lab.cluster(c).objects.list('events.k8s.io/v1', 'Event', 'default')) as unknown as { items: { reason: string; regarding: { name?: string }; reportingController: string; note?: string }[] }).items;

    /** The state that explains a failed ping: routes, fdb, neighbours, rules, and the last log lines. */
    const dump = async (nodes: string[]) => {
      const out: string[] = [];
      for (const n of nodes) {
        const run = async (what: string, cmd: string, args: string[]) => out.push(`--- ${n}: ${what}\n${await sh(n, cmd, args).catch((e: unknown) => String(e))}`);
        await run('routes', 'ip', ['route']);
        await run('rules', 'ip', ['rule']);
        await run('table 18952', 'ip', ['route', 'show', 'table', '18952']);
        await run('fdb', 'bridge', ['fdb', 'show', 'dev', 'vx-strait']);
        await run('neigh', 'ip', ['neigh', 'show', 'dev', 'vx-strait']);
        out.push(`--- ${n}: route-agent\n${(lab.routeAgents.get(n)?.out ?? '').split('\n').slice(-8).join('\n')}`);
        out.push(`--- ${n}: tunnel-operator\n${(lab.operators.get(n)?.out ?? '').split('\n').slice(-12).join('\n')}`);
      }
      return out.join('\n');
    };

    it('a pod on a non-gateway node reaches pods of the other cluster through the active gateway, both ways', async () => {
      for (const [from, to] of [['a', 'b'], ['b', 'a']] as const) {
        const dst = lab.addressFromPeer(to, workerPod(to).ip);
        await reach(workerPod(from).netns, dst);
        // The standby gateway's pod goes through vx-strait as well.
        const holder = await lab.holder(from);
        const standby = lab.cluster(from).info.gateways.find((n) => n.name !== holder)!;
        await reach(standby.pods[0]!.netns, dst);
        await reach(lab.topo.node(holder).pods[0]!.netns, dst);
      }
      const t = await lab.topo.tcpTransfer(workerPod('a').netns, workerPod('b').netns, lab.addressFromPeer('b', workerPod('b').ip), 300_000);
      expect(t).toBeDefined();

      const a = lab.cluster('a');
      const holder = await lab.holder('a');
      const routed = lab.routedCidr('a', 'b');
      const worker = a.info.workers[0]!.name;
      expect(await agentRoutes(worker)).toBe(`${routed} via ${overlayOf(holder)} dev vx-strait onlink`);
      expect(await fdb(worker)).toContain(`00:00:00:00:00:00 dst ${lab.topo.node(holder).ip} self permanent`);
      const link = JSON.parse(await sh(worker, 'ip', ['-d', '-j', 'link', 'show', 'dev', 'vx-strait'])) as { ifalias?: string; mtu: number; linkinfo: { info_data: { id: number; port: number } } }[];
      expect(link[0]).toMatchObject({ ifalias: 'strait:route-agent', mtu: 1450, linkinfo: { info_data: { id: 4800, port: 4800 } } });
      expect(await sh(worker, 'nft', ['list', 'table', 'inet', 'strait_route_mss'])).toContain('oifname "vx-strait"');
      // The active gateway: no route-agent routes, tunnel-operator's table-18952 rules carry the traffic.
      expect(await agentRoutes(holder)).toBe('');
      expect(await fdb(holder)).toBe('');
      expect(await sh(holder, 'ip', ['rule', 'show'])).toContain(`to ${routed} lookup 18952`);
      expect((await sh(holder, 'ip', ['route', 'show', 'table', '18952'])).trim()).toBe(`${routed} via 169.254.189.2 dev strait.host proto 201`);

      const metrics = await sh(worker, 'curl', ['-sf', `http://127.0.0.1:${ROUTE_AGENT_PROBE_PORT}/metrics`]);
      expect(metrics).toMatch(/^strait_route_agent_routes 1$/m);
      expect(metrics).toMatch(/^strait_route_agent_gateway 0$/m);
      expect(await sh(holder, 'curl', ['-sf', `http://127.0.0.1:${ROUTE_AGENT_PROBE_PORT}/metrics`])).toMatch(/^strait_route_agent_gateway 1$/m);
      expect((await sh(worker, 'curl', ['-s', `http://127.0.0.1:${ROUTE_AGENT_PROBE_PORT}/readyz?verbose`]))).toContain('[+]routes ok');
      const programmed = await until('RoutesProgrammed events', async () => {
        const evs = (await events('a')).filter((e) => e.reason === 'RoutesProgrammed');
        return evs.length >= 3 ? evs : undefined;
      });
      expect(programmed.every((e) => e.reportingController === 'net.strait.io/route-agent')).toBe(true);
    });

    it('after a gateway failover (SIGTERM of the active tunnel-operator) every node is re-pointed and traffic resumes; re-point time printed', async () => {
      const a = lab.cluster('a');
      const worker = a.info.workers[0]!.name;
      const holder = await lab.holder('a');
      const dst = lab.addressFromPeer('b', workerPod('b').ip);
      const probe = await lab.topo.startProbe(workerPod('a').netns, dst, { pps: 100, toNetns: workerPod('b').netns });
      await probe.firstReply();
      await new Promise((r) => setTimeout(r, 500));
      const t0 = performance.now();
      await lab.operators.get(holder)!.stop('SIGTERM');
      const next = await until('a new leader', async () => {
        const h = await lab.holder('a');
        return h && h !== holder ? h : undefined;
      }, 30_000, 20);
      const leaderMs = performance.now() - t0;
      const want = `${lab.routedCidr('a', 'b')} via ${overlayOf(next)} dev vx-strait onlink`;
      await until('the worker re-pointed', async () => ((await agentRoutes(worker)) === want ? true : undefined), 30_000, 10);
      const repointMs = performance.now() - t0;
      await reach(workerPod('a').netns, dst, 30_000).catch(async (e: unknown) => {
        throw new Error(`${String(e)}\n${await dump([worker, next, holder])}`);
      });
      await new Promise((r) => setTimeout(r, 1000));
      const r = await probe.stop();
      const logMs = (node: string, kind: string) => {
        const m = [...(lab.routeAgents.get(node)?.out ?? '').matchAll(new RegExp(`"transition":"${kind}"[^\\n]*?"ms":(\\d+)`, 'g'))];
        return m.length ? Number(m.at(-1)![1]) : NaN;
      };
      console.log(
        `[route-agent ${samePodCidr ? 'remapped' : 'distinct'}] graceful failover ${holder} → ${next}: new Lease holder seen after ${Math.round(leaderMs)} ms, ` +
          `worker routes re-pointed after ${Math.round(repointMs)} ms (SIGTERM → kernel); route-agent's own re-point (change observed → applied): ` +
          `worker ${logMs(worker, 'Repointed')} ms, ${next} BecameGateway ${logMs(next, 'BecameGateway')} ms, ${holder} StoppedBeingGateway ${logMs(holder, 'StoppedBeingGateway')} ms; ` +
          `probe: sent ${r.sent}, lost ${r.lost}, longest gap ${Math.round(r.longestGapMs)} ms`,
      );
      expect(r.received).toBeGreaterThan(0);
      // Every node follows: the old gateway points at the new one, the new one holds no route-agent route.
      await until('the old gateway re-pointed', async () => ((await agentRoutes(holder)) === want ? true : undefined), 30_000, 50);
      expect(await agentRoutes(next)).toBe('');
      expect(await fdb(worker)).toContain(`dst ${lab.topo.node(next).ip} self permanent`);
      const evs = await until('transition Events', async () => {
        const all = await events('a');
        const pick = (reason: string, node: string) => all.find((e) => e.reason === reason && e.regarding.name === node);
        const found = [pick('Repointed', worker), pick('BecameGateway', next), pick('StoppedBeingGateway', holder)];
        return found.every(Boolean) ? found : undefined;
      });
      expect(evs[1]!.note).toContain(`${next} is the active gateway node`);
      // The new leader's NATS hint reached the worker's route-agent (it re-read the Lease; by then the watch
      // had usually delivered the change already: "known").
      const m = await until('a leader hint counted', async () => {
        const text = await sh(worker, 'curl', ['-sf', `http://127.0.0.1:${ROUTE_AGENT_PROBE_PORT}/metrics`]);
        return /^strait_route_agent_leader_hints_total\{result="(known|confirmed)"\} [1-9]/m.test(text) ? text : undefined;
      }, 20_000, 250);
      expect(m).toMatch(/^strait_route_agent_gateway_transitions_total\{kind="Repointed"\} [1-9]/m);
      expect(m).toMatch(/^strait_route_agent_repoint_seconds_count\{kind="Repointed"\} [1-9]/m);
      // The old node comes back as a standby; traffic still flows through the new gateway.
      await lab.startOperator(holder).waitFor(/"msg":"started"/);
      await reach(workerPod('a').netns, dst, 60_000).catch(async (e: unknown) => {
        throw new Error(`${String(e)} (after the old gateway's operator restarted as a standby)\n${await dump([worker, next, holder])}`);
      });
    });

    it('a restarted route-agent adopts its routes and link: nothing recreated, traffic keeps flowing', async () => {
      const worker = lab.cluster('a').info.workers[0]!.name;
      const index = async () => (JSON.parse(await sh(worker, 'ip', ['-j', 'link', 'show', 'dev', 'vx-strait'])) as { ifindex: number }[])[0]!.ifindex;
      const before = { ifindex: await index(), routes: await agentRoutes(worker), holder: await lab.holder('a') };
      const dst = lab.addressFromPeer('b', workerPod('b').ip);
      const probe = await lab.topo.startProbe(workerPod('a').netns, dst, { pps: 100, toNetns: workerPod('b').netns });
      await probe.firstReply();
      const stopAt = Date.now();
      expect(await lab.routeAgents.get(worker)!.stop('SIGTERM')).toBe(0);
      expect(await agentRoutes(worker)).toBe(before.routes);
      const p = lab.startRouteAgentProcess(worker);
      await p.waitFor(/"msg":"routes (adopted unchanged|programmed)"/);
      const adoptedAt = Date.now();
      // The first sync of the new process writes nothing, unless the gateway moved while it was away.
      if ((await lab.holder('a')) === before.holder) expect(p.out).toMatch(/"writes":0,"msg":"routes adopted unchanged"/);
      await new Promise((r) => setTimeout(r, 500));
      const r = await probe.stop();
      const holderAfter = await lab.holder('a');
      console.log(
        `[route-agent ${samePodCidr ? 'remapped' : 'distinct'}] route-agent restart: sent ${r.sent}, lost ${r.lost}, adopted ${adoptedAt - stopAt} ms after SIGTERM, ` +
          `loss windows ${JSON.stringify(r.lossWindows.map((w) => ({ ms: w.ms, packets: w.packets, afterSigtermMs: Math.round(w.from - stopAt) })))}` +
          (holderAfter !== before.holder ? ` (the gateway Lease moved ${before.holder} → ${holderAfter} meanwhile; route-agent followed it)` : ''),
      );
      // Nothing is rewritten by the restart (no write: "adopted unchanged", same ifindex) and traffic keeps
      // flowing; loss figures are printed, not asserted (on a loaded machine the probe loses the odd packet).
      expect(r.received).toBeGreaterThan(0);
      expect(await index()).toBe(before.ifindex);
      const want = `${lab.routedCidr('a', 'b')} via ${overlayOf(holderAfter)} dev vx-strait onlink`;
      await until('routes to the current gateway', async () => ((await agentRoutes(worker)) === want ? true : undefined), 30_000, 50);
    });

    it('uninstall removes route-agent\'s link, routes and nft table and nothing else (foreign route and table, topology routes, tunnel-operator\'s rules stay)', async () => {
      const a = lab.cluster('a');
      const worker = a.info.workers[0]!.name;
      const holder = await lab.holder('a');
      const snapshot = async (node: string) => ({
        topo: await sh(node, 'ip', ['route', 'show', 'proto', '250']),
        rules: await sh(node, 'ip', ['rule', 'show']),
        t18952: await sh(node, 'ip', ['route', 'show', 'table', '18952']).catch(() => ''),
        tables: (await sh(node, 'nft', ['list', 'tables'])).split('\n').filter((l) => l && !l.includes('strait_route_mss')).sort().join('\n'),
      });
      for (const node of [worker, holder]) {
        await sh(node, 'ip', ['route', 'add', '10.99.0.0/16', 'via', lab.topo.node(node).ip === a.info.nodes[0]!.ip ? a.info.nodes[1]!.ip : a.info.nodes[0]!.ip, 'proto', 'static']);
        await sh(node, 'nft', ['add', 'table', 'inet', 'foreign_t']);
        const before = await snapshot(node);
        const leaseBefore = await lab.holder('a');
        expect(await lab.routeAgents.get(node)!.stop('SIGTERM')).toBe(0);
        const out = await lab.topo.exec(ns(node), process.execPath, [MAIN, 'uninstall']);
        expect(JSON.parse(out.stdout.trim())).toMatchObject({ msg: 'uninstalled' });
        expect(await agentRoutes(node)).toBe('');
        await expect(sh(node, 'ip', ['link', 'show', 'dev', 'vx-strait'])).rejects.toThrow(/does not exist/);
        await expect(sh(node, 'nft', ['list', 'table', 'inet', 'strait_route_mss'])).rejects.toThrow();
        expect(await sh(node, 'ip', ['route', 'show', '10.99.0.0/16'])).toContain('proto static');
        const after = await snapshot(node);
        expect({ ...after, rules: '', t18952: '' }).toEqual({ ...before, rules: '', t18952: '' });
        // tunnel-operator's rules and table 18952 are untouched (unless its Lease moved meanwhile, which
        // legitimately changes them).
        if ((await lab.holder('a')) === leaseBefore) expect({ rules: after.rules, t18952: after.t18952 }).toEqual({ rules: before.rules, t18952: before.t18952 });
        // A second run finds nothing to do.
        expect(JSON.parse((await lab.topo.exec(ns(node), process.execPath, [MAIN, 'uninstall'])).stdout.trim())).toMatchObject({ writes: 0 });
      }
      expect((await lab.topo.ping(workerPod('a').netns, lab.addressFromPeer('b', workerPod('b').ip), { count: 1, timeoutMs: 500 })).received).toBe(0);
    });
  });
}
