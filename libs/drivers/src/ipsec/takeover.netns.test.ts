import { ViciClient } from '@strait/net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayContext, peerSpec, testKeys, type TestKeys } from '../testing/gateways.ts';
import { createTopology, ping, waitFor, type Topology } from '../testing/topology.ts';
import { connName } from './conn-config.ts';
import { IpsecDriver } from './driver.ts';
import { summariseSas } from './sa-state.ts';

/**
 * A gateway failover at the IKE level (docs/adr/0004): gateway `a2` stands in for cluster-a's other
 * gateway — the same identity and subnet, another address — and connects to `b`, whose peer config
 * still names `a`'s address. `b` accepts it, replaces `a`'s IKE_SA (INITIAL_CONTACT) and sends its
 * traffic for cluster-a through the new SA; `a`'s stale SA (charon does not tell `a`) and its later
 * release do not disturb it.
 */
const isRoot = process.getuid?.() === 0;
/** a2's address inside cluster-a's subnet (kernel-libipsec needs one in its local selectors). */
const A2_IN_A = '10.1.0.250';

describe.skipIf(!isRoot)('IPsec: another gateway of the same cluster takes over the peer', () => {
  let topo: Topology;
  let keys: TestKeys;
  const drivers: IpsecDriver[] = [];
  let viciB: ViciClient | undefined;

  beforeAll(async () => {
    topo = await createTopology({ gateways: ['a', 'a2', 'b'] });
    keys = testKeys(['a', 'a2', 'b']);
    await topo.exec(topo.gw('a2').netns, 'ip', ['addr', 'add', `${A2_IN_A}/32`, 'dev', 'lo']);
  }, 60_000);

  afterAll(async () => {
    viciB?.close();
    for (const d of drivers) await d.cleanup().catch(() => undefined);
    await topo?.destroy();
  }, 60_000);

  it("b accepts cluster-a's identity from a2's address, replaces a's SA and routes cluster-a's traffic to a2", async () => {
    const [a, a2, b] = [topo.gw('a'), topo.gw('a2'), topo.gw('b')];
    const da = new IpsecDriver(gatewayContext(a));
    const db = new IpsecDriver(gatewayContext(b));
    const da2 = new IpsecDriver(gatewayContext(a2, { clusterId: a.clusterId }));
    drivers.push(da, db, da2);
    await Promise.all([da.init(), db.init(), da2.init()]);
    await Promise.all([da.connect(peerSpec('ipsec', a, b, keys)), db.connect(peerSpec('ipsec', b, a, keys))]);
    await waitFor('a ↔ b Connected', async () => (await da.status(b.clusterId)).state === 'Connected' && (await db.status(a.clusterId)).state === 'Connected', 30_000);
    expect((await ping(a.podNetns, b.podIp, { count: 2 })).received).toBe(2);

    // The takeover: b's peer config still names a's address.
    await da2.connect({ ...peerSpec('ipsec', a2, b, keys), localSubnets: [a.subnet], healthCheck: { localIp: A2_IN_A, remoteIp: b.podSideIp } });
    // b's replies reach a2 only if b sends cluster-a's traffic through a2's CHILD_SA.
    await waitFor('ping b through a2', async () => (await ping(a2.netns, b.podIp, { count: 1, source: A2_IN_A })).received === 1, 30_000);

    viciB = new ViciClient({ socketPath: join(b.stateDir, 'ipsec', 'charon.vici') });
    const conn = connName(a.clusterId);
    // b destroys a's IKE_SA on a2's INITIAL_CONTACT (silently: a is not told and keeps its stale SA).
    await waitFor("b holds one IKE_SA for cluster-a (a's was replaced)", async () => summariseSas(await viciB!.listSas({ ike: conn, noblock: true }), conn).ikeSas === 1, 20_000);
    // a's stale SA does not take the peer back, and a's release (DELETE for an SA b no longer has) changes nothing.
    await sleep(2_000);
    expect((await ping(a2.netns, b.podIp, { count: 3, source: A2_IN_A })).received).toBe(3);
    await da.disconnect(b.clusterId);
    expect((await ping(a2.netns, b.podIp, { count: 3, source: A2_IN_A })).received).toBe(3);
    expect(summariseSas(await viciB.listSas({ ike: conn, noblock: true }), conn)).toMatchObject({ ikeSas: 1, ikeState: 'ESTABLISHED', childInstalled: true });
  }, 120_000);
});
