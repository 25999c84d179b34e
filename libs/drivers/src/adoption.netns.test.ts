import { spawn } from 'node:child_process';
import { execRunner, RecordingRunner } from '@strait/net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpsecDriver } from './ipsec/driver.ts';
import { gatewayContext, peerSpec, testKeys, type TestKeys } from './testing/gateways.ts';
import { createTopology, sh, waitFor, type GatewayNode, type Topology } from './testing/topology.ts';
import type { Backend, CableDriver } from './types.ts';
import { VxlanDriver, vxlanIfname } from './vxlan/driver.ts';
import { WireGuardDriver } from './wireguard/driver.ts';

/**
 * Re-applying the same desired state changes nothing, and a new driver instance (a restarted process)
 * adopts the running tunnel without recreating its link — while pods ping each other at 100 packets/s
 * without losing one.
 */
function makeDriver(backend: Backend, g: GatewayNode, keys: TestKeys, runner?: RecordingRunner): CableDriver {
  const ctx = gatewayContext(g, runner ? { runner } : {});
  switch (backend) {
    case 'wireguard':
      return new WireGuardDriver(ctx, { privateKey: keys.wireguard[g.key]!.privateKey });
    case 'ipsec':
      return new IpsecDriver(ctx);
    case 'vxlan':
      return new VxlanDriver(ctx);
  }
}

const tunnelLink: Record<Backend, string> = { wireguard: 'strait-wg0', ipsec: 'ipsec0', vxlan: vxlanIfname(100) };

async function ifindex(netns: string, ifname: string): Promise<number> {
  return (JSON.parse(await sh('ip', ['-n', netns, '-j', 'link', 'show', 'dev', ifname])) as { ifindex: number }[])[0]!.ifindex;
}

/** `ping -i 0.01 -c <count>` in the background; resolves with sent/received when it ends. */
function floodPing(netns: string, target: string, count: number): { done: Promise<{ sent: number; received: number; output: string }> } {
  const child = spawn('ip', ['netns', 'exec', netns, 'ping', '-n', '-q', '-i', '0.01', '-c', String(count), '-W', '1', target], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const done = new Promise<{ sent: number; received: number; output: string }>((resolve) =>
    child.once('exit', () => {
      const m = /(\d+) packets transmitted, (\d+) received/.exec(output);
      resolve({ sent: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0), output });
    }),
  );
  return { done };
}

describe.each(['wireguard', 'ipsec', 'vxlan'] as const)('%s driver: idempotence and adoption', (backend) => {
  let topo: Topology;
  let keys: TestKeys;
  const drivers: CableDriver[] = [];

  beforeAll(async () => {
    topo = await createTopology();
    keys = testKeys(['a', 'b']);
  });

  afterAll(async () => {
    for (const d of drivers.reverse()) await d.cleanup().catch(() => undefined);
    await topo?.destroy();
  });

  it('re-applying the same peer issues no kernel write and keeps the ifindex', async () => {
    const a = topo.gw('a');
    const b = topo.gw('b');
    const recorder = new RecordingRunner(execRunner());
    const da = makeDriver(backend, a, keys, recorder);
    const db = makeDriver(backend, b, keys);
    drivers.push(db, da);
    await Promise.all([da.connect(peerSpec(backend, a, b, keys)), db.connect(peerSpec(backend, b, a, keys))]);
    await waitFor('Connected', async () => (await da.status(b.clusterId)).state === 'Connected' && (await db.status(a.clusterId)).state === 'Connected', 30_000);
    const before = await ifindex(a.netns, tunnelLink[backend]);

    recorder.clear();
    await da.init();
    const st = await da.connect(peerSpec(backend, a, b, keys));
    expect(recorder.writes.map((c) => c.line)).toEqual([]);
    expect(st.state).toBe('Connected');
    expect(await ifindex(a.netns, tunnelLink[backend])).toBe(before);
  });

  it('a new driver instance adopts the tunnel without recreating it and without losing a ping at 100/s', async () => {
    const a = topo.gw('a');
    const b = topo.gw('b');
    const before = await ifindex(a.netns, tunnelLink[backend]);
    const old = drivers.pop()!; // da
    const flood = floodPing(a.podNetns, b.podIp, 300);
    await new Promise((r) => setTimeout(r, 300));

    // The old process goes away gracefully (datapath stays), a new one takes over.
    await old.close();
    const recorder = new RecordingRunner(execRunner());
    const fresh = makeDriver(backend, a, keys, recorder);
    drivers.push(fresh);
    await fresh.init();
    const st = await fresh.connect(peerSpec(backend, a, b, keys));
    expect(['Connected', 'Connecting']).toContain(st.state);
    expect(recorder.writes.map((c) => c.line)).toEqual([]);
    expect(await ifindex(a.netns, tunnelLink[backend])).toBe(before);

    const result = await flood.done;
    expect(result.sent).toBe(300);
    expect(result.received, result.output).toBe(300);
    await waitFor('Connected after adoption', async () => (await fresh.status(b.clusterId)).state === 'Connected', 15_000);
  });
});
