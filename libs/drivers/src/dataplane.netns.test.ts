import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpsecDriver } from './ipsec/driver.ts';
import { createTopology, ping, waitFor, type GatewayNode, type Topology } from './testing/topology.ts';
import { gatewayContext, peerSpec, testKeys, type TestKeys } from './testing/gateways.ts';
import { tcpTransfer } from './testing/transfer.ts';
import type { Backend, CableDriver } from './types.ts';
import { VxlanDriver } from './vxlan/driver.ts';
import { WireGuardDriver } from './wireguard/driver.ts';

/**
 * For each driver: two gateways joined by a simulated WAN, a pod namespace behind each; tunnel up,
 * ping pod↔pod both ways, 1 MB TCP in 1400-byte writes both ways (no MTU black hole).
 */
function makeDriver(backend: Backend, g: GatewayNode, keys: TestKeys): CableDriver {
  const ctx = gatewayContext(g);
  switch (backend) {
    case 'wireguard':
      return new WireGuardDriver(ctx, { privateKey: keys.wireguard[g.key]!.privateKey });
    case 'ipsec':
      return new IpsecDriver(ctx);
    case 'vxlan':
      return new VxlanDriver(ctx);
  }
}

describe.each(['wireguard', 'ipsec', 'vxlan'] as const)('%s driver between two gateways', (backend) => {
  let topo: Topology;
  let keys: TestKeys;
  const drivers: CableDriver[] = [];

  beforeAll(async () => {
    topo = await createTopology();
    keys = testKeys(['a', 'b']);
  });

  afterAll(async () => {
    for (const d of drivers) await d.cleanup().catch(() => undefined);
    await topo?.destroy();
  });

  it('brings the tunnel up and reports Connected with RTT statistics', async () => {
    const a = topo.gw('a');
    const b = topo.gw('b');
    const da = makeDriver(backend, a, keys);
    const db = makeDriver(backend, b, keys);
    drivers.push(da, db);
    await Promise.all([da.init(), db.init()]);
    await Promise.all([da.connect(peerSpec(backend, a, b, keys)), db.connect(peerSpec(backend, b, a, keys))]);
    await waitFor('both ends Connected', async () => (await da.status(b.clusterId)).state === 'Connected' && (await db.status(a.clusterId)).state === 'Connected', 30_000);
    const st = await da.status(b.clusterId);
    expect(st).toMatchObject({ clusterId: b.clusterId, backend, state: 'Connected' });
    expect(st.rtt?.samples).toBeGreaterThan(0);
    expect(st.rtt!.minMs).toBeLessThanOrEqual(st.rtt!.avgMs);
    expect(st.rtt!.avgMs).toBeLessThanOrEqual(st.rtt!.maxMs);
    expect(await da.connections()).toHaveLength(1);
  });

  it('carries ICMP pod↔pod both ways', async () => {
    const a = topo.gw('a');
    const b = topo.gw('b');
    expect((await ping(a.podNetns, b.podIp, { count: 5 })).received).toBe(5);
    expect((await ping(b.podNetns, a.podIp, { count: 5 })).received).toBe(5);
  });

  it('carries 1 MB of TCP in 1400-byte writes both ways (MSS clamped, no MTU black hole)', async () => {
    const a = topo.gw('a');
    const b = topo.gw('b');
    await tcpTransfer({ serverNs: b.podNetns, serverIp: b.podIp, clientNs: a.podNetns, bytes: 1 << 20, writeSize: 1400 });
    await tcpTransfer({ serverNs: a.podNetns, serverIp: a.podIp, clientNs: b.podNetns, bytes: 1 << 20, writeSize: 1400 });
    const st = await drivers[0]!.status(b.clusterId);
    expect(st.rxBytes).toBeGreaterThan(1 << 20);
    expect(st.txBytes).toBeGreaterThan(1 << 20);
  });

  it('drops full-size packets with DF instead of fragmenting them, so PMTU discovery works', async () => {
    const a = topo.gw('a');
    const b = topo.gw('b');
    // 1472 + 28 = 1500 bytes does not fit the tunnel: the gateway answers "frag needed".
    const big = await ping(a.podNetns, b.podIp, { count: 1, size: 1472 });
    expect(big.received).toBe(0);
    expect(big.output).toMatch(/mtu|frag|Message too long|1 packets transmitted/i);
  });
});
