import { HEALTH_CHECK_IP_ANNOTATION, type TunnelEndpoint } from '@strait/api';
import type { Cables, ConnectionStatus, PeerSpec } from '@strait/drivers';
import { FakeNetwork, type CommandRunner } from '@strait/net';
import { silentLogger } from '@strait/drivers';
import { describe, expect, it } from 'vitest';
import { GatewayDatapath } from './datapath.ts';
import { gatewayLayout } from './layout.ts';
import { desiredPeer } from './peers.ts';

const KEY = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const NS = 'gw-ns';

function tep(name: string, podCIDR: string, remap?: TunnelEndpoint['spec']['remap']): TunnelEndpoint {
  return {
    apiVersion: 'net.strait.io/v1alpha1',
    kind: 'TunnelEndpoint',
    metadata: { name, namespace: 'strait-system', generation: 1 },
    spec: {
      remoteClusterID: name,
      endpoint: { address: '172.31.0.9', port: 51820 },
      backend: 'wireguard',
      backendConfig: { wireguard: { publicKey: KEY, port: 51820 } },
      remote: { podCIDRs: [podCIDR] },
      ...(remap ? { remap } : {}),
    },
  } as TunnelEndpoint;
}

class FakeCables {
  readonly connected = new Map<string, PeerSpec>();
  connect(spec: PeerSpec): Promise<ConnectionStatus> {
    this.connected.set(spec.clusterId, spec);
    return Promise.resolve({ clusterId: spec.clusterId, backend: spec.backend, state: 'Connecting', message: '', interface: 'strait-wg0', endpoint: '', rxBytes: 0, txBytes: 0, lastHandshake: undefined, rtt: undefined });
  }
  disconnect(id: string): Promise<void> {
    this.connected.delete(id);
    return Promise.resolve();
  }
}

/** The datapath sets the moved veth end up with `ip link set dev X up`: mirrored on the fake kernel. */
function linkUpRunner(net: FakeNetwork): CommandRunner {
  return {
    run: (_cmd: string, args: readonly string[], opts?: { netns?: string }) => {
      const dev = args[3];
      const links = net.state.ns(opts?.netns).links;
      const l = dev ? links.get(dev) : undefined;
      if (l && args.join(' ').endsWith(' up')) links.set(dev!, { ...l, up: true });
      return Promise.resolve({ stdout: '', stderr: '' });
    },
  } as unknown as CommandRunner;
}

function setup() {
  const net = new FakeNetwork();
  const noRunner = linkUpRunner(net);
  const cables = new FakeCables();
  const layout = gatewayLayout({ netnsName: NS, vethCidr: '169.254.189.0/30', forwardUdpPorts: [51820] });
  const dp = new GatewayDatapath({ netnsName: NS, layout, ports: net, runner: noRunner, cables: cables as unknown as Cables, logger: silentLogger });
  return { net, cables, dp };
}

const local = { clusterId: 'a', podCidrs: ['10.0.0.0/16'] };

describe('GatewayDatapath on the fake kernel', () => {
  it('prepares the layout once; a second prepare (a restart) writes nothing', async () => {
    const { net, dp } = setup();
    const first = await dp.prepare();
    expect(first.netnsCreated).toBe(true);
    expect(first.writes).toBeGreaterThan(0);
    const writes = net.writes;
    const again = await dp.prepare();
    expect(again).toEqual({ netnsCreated: false, writes: 0 });
    expect(net.writes).toBe(writes);
  });

  it('applies per-peer host rules, table 18952 routes and remap NAT; removing a peer removes exactly its own', async () => {
    const { net, dp, cables } = setup();
    await dp.prepare();
    net.seedRule(undefined, { priority: 100, from: '10.9.0.0/16', table: 100 });
    net.seedRoute(undefined, { dst: '10.8.0.0/16', via: '169.254.189.2' });
    const b = desiredPeer(tep('b', '10.2.0.0/16'), local);
    const c = desiredPeer(tep('c', '10.0.0.0/16', { remotePodCIDR: '10.50.0.0/16', localPodCIDR: '10.60.0.0/16' }), local);
    await Promise.all([dp.connect(b), dp.connect(c)]);
    expect(await dp.applyPeers([b, c])).toBeGreaterThan(0);
    expect(await dp.applyPeers([b, c])).toBe(0);
    const rules = net.allRules(undefined).map((r) => `${r.rule.priority} ${r.rule.from ?? ''}${r.rule.to ?? ''} ${r.rule.table}`).sort();
    expect(rules).toEqual(['100 10.9.0.0/16 100', '18950 10.2.0.0/16 18952', '18950 10.50.0.0/16 18952', '18951 10.2.0.0/16 18952', '18951 10.50.0.0/16 18952']);
    expect(net.allRoutes(undefined).filter((r) => r.route.table === 18952).map((r) => r.route.dst).sort()).toEqual(['10.2.0.0/16', '10.50.0.0/16']);
    const nat = await net.nft.read(NS, 'inet', 'strait_remap');
    expect([...(nat?.chains.get('postrouting')?.rules ?? [])].length + (nat?.chains.get('postrouting')?.ruleTags.length ?? 0)).toBeGreaterThan(0);

    await dp.disconnect('c');
    await dp.applyPeers([b]);
    expect(cables.connected.has('c')).toBe(false);
    expect(net.allRules(undefined).map((r) => r.rule.from ?? r.rule.to).sort()).toEqual(['10.2.0.0/16', '10.2.0.0/16', '10.9.0.0/16']);
    expect(net.allRoutes(undefined).map((r) => r.route.dst).sort()).toEqual(['10.2.0.0/16', '10.8.0.0/16']);
  });

  it("assigns a remapped peer's health-check address, keeps it across a restart and removes it with the peer", async () => {
    const net = new FakeNetwork();
    const layout = gatewayLayout({ netnsName: NS, vethCidr: '169.254.189.0/30', forwardUdpPorts: [51820], healthCheckIp: '10.0.255.254' });
    const dp = new GatewayDatapath({ netnsName: NS, layout, ports: net, runner: linkUpRunner(net), cables: new FakeCables() as unknown as Cables, logger: silentLogger });
    await dp.prepare();
    const withHealth = (t: TunnelEndpoint, ip: string) => ({ ...t, metadata: { ...t.metadata, annotations: { [HEALTH_CHECK_IP_ANNOTATION]: ip } } }) as TunnelEndpoint;
    const plan = { ...local, healthCheckIp: '10.0.255.254' };
    const c = desiredPeer(withHealth(tep('c', '10.0.0.0/16', { remotePodCIDR: '10.50.0.0/16', localPodCIDR: '10.60.0.0/16' }), '10.50.255.254'), plan);
    const addrs = async () => (await net.addresses.list(NS, { owner: 'tunnel-operator' })).filter((a) => a.dev === 'strait.gateway').map((a) => a.address).sort();
    expect(await dp.applyPeers([c])).toBeGreaterThan(0);
    expect(await addrs()).toEqual(['10.0.255.254/32', '10.60.255.254/32', '169.254.189.2/30']);
    expect((await dp.prepare()).writes).toBe(0);
    expect(await addrs()).toEqual(['10.0.255.254/32', '10.60.255.254/32', '169.254.189.2/30']);
    await dp.applyPeers([]);
    expect(await addrs()).toEqual(['10.0.255.254/32', '169.254.189.2/30']);
  });

  it('a standby releases host rules and peers, and leaves the layout and foreign state alone', async () => {
    const { net, dp, cables } = setup();
    await dp.prepare();
    net.seedRule(undefined, { priority: 100, from: '10.9.0.0/16', table: 100 });
    const b = desiredPeer(tep('b', '10.2.0.0/16'), local);
    await dp.connect(b);
    await dp.applyPeers([b]);
    await dp.release(['b']);
    expect(cables.connected.size).toBe(0);
    expect(net.allRules(undefined).map((r) => r.rule.table)).toEqual([100]);
    expect(net.allRoutes(undefined).filter((r) => r.route.table === 18952)).toEqual([]);
    expect((await dp.prepare()).writes).toBe(0);
  });

  it('the remap table and addresses are read from the kernel only when they changed, or on verify (drift repair)', async () => {
    const { net, dp } = setup();
    await dp.prepare();
    const calls = { nft: 0, addresses: 0 };
    const nftApply = net.nft.apply.bind(net.nft);
    const addrApply = net.addresses.apply.bind(net.addresses);
    net.nft.apply = (...a: Parameters<typeof nftApply>) => (calls.nft++, nftApply(...a));
    net.addresses.apply = (...a: Parameters<typeof addrApply>) => (calls.addresses++, addrApply(...a));
    const peers = Array.from({ length: 10 }, (_, i) => desiredPeer(tep(`p${i}`, `10.${100 + i}.0.0/16`), local));
    for (let i = 1; i <= peers.length; i++) await dp.applyPeers(peers.slice(0, i));
    // No remap among them: the (empty) remap table and the addresses were applied once, not per peer set.
    expect(calls).toEqual({ nft: 1, addresses: 1 });
    expect(net.allRules(undefined).filter((r) => r.rule.table === 18952)).toHaveLength(20);
    // A remapped peer changes the remap table: applied again.
    const c = desiredPeer(tep('c', '10.0.0.0/16', { remotePodCIDR: '10.50.0.0/16', localPodCIDR: '10.60.0.0/16' }), local);
    await dp.applyPeers([...peers, c]);
    expect(calls.nft).toBe(2);
    // Drift repair: a deleted remap table is put back on verify.
    await net.nft.apply(NS, { family: 'inet', name: 'strait_remap', chains: [] });
    await dp.applyPeers([...peers, c], { verify: true });
    expect(calls.nft).toBe(4);
    const nat = await net.nft.read(NS, 'inet', 'strait_remap');
    expect(nat?.chains.get('postrouting')).toBeDefined();
  });
});
