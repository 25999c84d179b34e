import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpsecDriver } from './ipsec/driver.ts';
import { Cables, defaultRegistry } from './registry.ts';
import { gatewayContext, peerSpec, testKeys, type TestKeys } from './testing/gateways.ts';
import { createTopology, ping, snapshot, waitFor, type KernelSnapshot, type Topology } from './testing/topology.ts';
import { tcpTransfer } from './testing/transfer.ts';
import type { CableDriver } from './types.ts';
import { WireGuardDriver } from './wireguard/driver.ts';

/** One gateway (a) with two peers at once: WireGuard to b, IPsec to c. */
describe('one gateway, WireGuard to one peer and IPsec to another', () => {
  let topo: Topology;
  let keys: TestKeys;
  let cables: Cables;
  const others: CableDriver[] = [];
  const metrics = new Registry();
  let before: KernelSnapshot;

  beforeAll(async () => {
    topo = await createTopology({ gateways: ['a', 'b', 'c'] });
    keys = testKeys(['a', 'b', 'c']);
    before = await snapshot(topo.gw('a').netns);
  });

  afterAll(async () => {
    await cables?.cleanup().catch(() => undefined);
    for (const d of others) await d.cleanup().catch(() => undefined);
    await topo?.destroy();
  });

  it('connects both peers through the registry and reaches both pods', async () => {
    const [a, b, c] = [topo.gw('a'), topo.gw('b'), topo.gw('c')];
    cables = new Cables(defaultRegistry(), gatewayContext(a, { metrics }), { wireguard: { privateKey: keys.wireguard['a']!.privateKey } });
    const wgB = new WireGuardDriver(gatewayContext(b), { privateKey: keys.wireguard['b']!.privateKey });
    const ipsecC = new IpsecDriver(gatewayContext(c));
    others.push(wgB, ipsecC);
    await Promise.all([
      cables.connect(peerSpec('wireguard', a, b, keys)),
      cables.connect(peerSpec('ipsec', a, c, keys)),
      wgB.connect(peerSpec('wireguard', b, a, keys)),
      ipsecC.connect(peerSpec('ipsec', c, a, keys)),
    ]);
    await waitFor('both peers Connected', async () => (await cables.connections()).every((s) => s.state === 'Connected'), 30_000);
    const statuses = await cables.connections();
    expect(statuses.map((s) => [s.clusterId, s.backend, s.interface, s.state])).toEqual([
      ['cluster-b', 'wireguard', 'strait-wg0', 'Connected'],
      ['cluster-c', 'ipsec', 'ipsec0', 'Connected'],
    ]);

    expect((await ping(a.podNetns, b.podIp, { count: 3 })).received).toBe(3);
    expect((await ping(a.podNetns, c.podIp, { count: 3 })).received).toBe(3);
    expect((await ping(b.podNetns, a.podIp, { count: 3 })).received).toBe(3);
    expect((await ping(c.podNetns, a.podIp, { count: 3 })).received).toBe(3);
    await tcpTransfer({ serverNs: b.podNetns, serverIp: b.podIp, clientNs: a.podNetns, bytes: 1 << 20 });
    await tcpTransfer({ serverNs: a.podNetns, serverIp: a.podIp, clientNs: c.podNetns, bytes: 1 << 20 });

    const text = await metrics.metrics();
    expect(text).toMatch(/strait_wireguard_implementation\{impl="(kernel|wireguard-go|boringtun)"\} 1/);
  });

  it('refuses a third peer whose subnets overlap one on the other driver', async () => {
    const [a, c] = [topo.gw('a'), topo.gw('c')];
    const spec = { ...peerSpec('wireguard', a, c, keys), clusterId: 'cluster-x', remoteSubnets: ['10.3.0.0/16'], healthCheck: undefined };
    await expect(cables.connect(spec)).rejects.toThrow('wireguard driver: remoteSubnets: 10.3.0.0/16 of peer cluster-x overlaps 10.3.0.0/24 of peer cluster-c');
  });

  it('moves a peer from IPsec to WireGuard and cleans up both drivers completely', async () => {
    const [a, c] = [topo.gw('a'), topo.gw('c')];
    const wgC = new WireGuardDriver(gatewayContext(c), { privateKey: keys.wireguard['c']!.privateKey });
    others.push(wgC);
    await others[1]!.disconnect(a.clusterId); // c stops IPsec to a
    await wgC.connect(peerSpec('wireguard', c, a, keys));
    const st = await cables.connect(peerSpec('wireguard', a, c, keys));
    expect(st.backend).toBe('wireguard');
    await waitFor('cluster-c over WireGuard', async () => (await cables.status('cluster-c')).state === 'Connected', 30_000);
    expect((await cables.connections()).map((s) => `${s.clusterId}:${s.backend}`)).toEqual(['cluster-b:wireguard', 'cluster-c:wireguard']);
    expect((await ping(a.podNetns, c.podIp, { count: 3 })).received).toBe(3);
    await cables.cleanup();
    expect(await snapshot(a.netns)).toEqual(before);
  });
});
