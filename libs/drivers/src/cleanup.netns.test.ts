import { generateKeyPair } from '@strait/net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpsecDriver } from './ipsec/driver.ts';
import { Cables, defaultRegistry } from './registry.ts';
import { gatewayContext, peerSpec, testKeys, type TestKeys } from './testing/gateways.ts';
import { createTopology, nsExec, sh, snapshot, waitFor, type GatewayNode, type Topology } from './testing/topology.ts';
import { DriverConfigError, type Backend, type CableDriver } from './types.ts';
import { VxlanDriver } from './vxlan/driver.ts';
import { WireGuardDriver } from './wireguard/driver.ts';

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

let topo: Topology;
let keys: TestKeys;

beforeAll(async () => {
  topo = await createTopology();
  keys = testKeys(['a', 'b']);
  // Things Strait did not create and must never touch.
  const a = topo.gw('a');
  await nsExec(a.netns, 'nft', ['add', 'table', 'inet', 'foreign']);
  await nsExec(a.netns, 'nft', ['add', 'chain', 'inet', 'foreign', 'keep', '{ type filter hook forward priority 0; policy accept; }']);
  await sh('ip', ['-n', a.netns, 'route', 'add', '10.99.0.0/24', 'via', a.podIp]);
  await sh('ip', ['-n', a.netns, 'route', 'add', '10.98.0.0/24', 'via', a.podIp, 'table', '100']);
});

afterAll(async () => {
  await topo?.destroy();
});

describe.each(['wireguard', 'ipsec', 'vxlan'] as const)('%s driver cleanup', (backend) => {
  it('removes everything it created and nothing else', async () => {
    const a = topo.gw('a');
    const b = topo.gw('b');
    const beforeA = await snapshot(a.netns);
    const beforeB = await snapshot(b.netns);
    const da = makeDriver(backend, a, keys);
    const db = makeDriver(backend, b, keys);
    try {
      await Promise.all([da.connect(peerSpec(backend, a, b, keys)), db.connect(peerSpec(backend, b, a, keys))]);
      await waitFor('Connected', async () => (await da.status(b.clusterId)).state === 'Connected', 30_000);
      const during = await snapshot(a.netns);
      expect(during).not.toEqual(beforeA);
    } finally {
      await da.cleanup();
      await db.cleanup();
    }
    expect(await snapshot(a.netns)).toEqual(beforeA);
    expect(await snapshot(b.netns)).toEqual(beforeB);
    expect(beforeA.nftTables).toContain('table inet foreign');
    expect(beforeA.routes.some((r) => r.includes('10.99.0.0/24'))).toBe(true);
  });
});

describe('bad input: clear errors, no partial state', () => {
  it('rejects an invalid private key before touching anything, without echoing it', async () => {
    const a = topo.gw('a');
    const before = await snapshot(a.netns);
    const secret = 'this-is-not-a-key-but-secret';
    let err: unknown;
    try {
      new WireGuardDriver(gatewayContext(a), { privateKey: secret });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DriverConfigError);
    expect((err as Error).message).toBe('wireguard driver: privateKey: not a WireGuard private key (32 bytes, base64)');
    expect((err as Error).message).not.toContain(secret);
    expect(await snapshot(a.netns)).toEqual(before);
  });

  it('rejects an invalid peer public key on connect without creating the link', async () => {
    const a = topo.gw('a');
    const b = topo.gw('b');
    const before = await snapshot(a.netns);
    const d = new WireGuardDriver(gatewayContext(a), { privateKey: keys.wireguard['a']!.privateKey });
    const spec = { ...peerSpec('wireguard', a, b, keys), backendConfig: { publicKey: 'AAAA' } };
    await expect(d.connect(spec)).rejects.toThrow('wireguard driver: backendConfig.publicKey: not a WireGuard public key (32 bytes, base64)');
    expect(await snapshot(a.netns)).toEqual(before);
  });

  it('names the known backends for an unknown one', async () => {
    const a = topo.gw('a');
    const cables = new Cables(defaultRegistry(), gatewayContext(a), {});
    const spec = { ...peerSpec('vxlan', a, topo.gw('b'), keys), backend: 'gre' } as never;
    await expect(cables.connect(spec)).rejects.toThrow('registry driver: backend: unknown backend "gre"; known backends: ipsec, vxlan, wireguard');
    expect(() => defaultRegistry().create('openvpn', gatewayContext(a))).toThrow(/known backends: ipsec, vxlan, wireguard/);
  });

  it('rejects overlapping allowed IPs across peers before any change', async () => {
    const a = topo.gw('a');
    const b = topo.gw('b');
    const d = new WireGuardDriver(gatewayContext(a), { privateKey: keys.wireguard['a']!.privateKey });
    try {
      await d.connect(peerSpec('wireguard', a, b, keys));
      const before = await snapshot(a.netns);
      const other = {
        ...peerSpec('wireguard', a, b, keys),
        clusterId: 'cluster-c',
        endpoint: { ip: '192.168.250.3' },
        remoteSubnets: ['10.2.0.0/16'],
        healthCheck: undefined,
        backendConfig: { publicKey: generateKeyPair().publicKey },
      };
      await expect(d.connect(other)).rejects.toThrow('wireguard driver: remoteSubnets: 10.2.0.0/16 of peer cluster-c overlaps 10.2.0.0/24 of peer cluster-b');
      expect(await snapshot(a.netns)).toEqual(before);
      // The kernel's own peers count too: a fresh instance that has not claimed cluster-b yet still refuses.
      const fresh = new WireGuardDriver(gatewayContext(a), { privateKey: keys.wireguard['a']!.privateKey });
      await expect(fresh.connect(other)).rejects.toThrow(/10\.2\.0\.0\/16 of peer cluster-c overlaps 10\.2\.0\.0\/24 of peer \(unclaimed WireGuard peer/);
      expect(await snapshot(a.netns)).toEqual(before);
      await fresh.close();
    } finally {
      await d.cleanup();
    }
  });

  it('reports an unreachable VICI socket clearly and changes nothing', async () => {
    const a = topo.gw('a');
    const b = topo.gw('b');
    const before = await snapshot(a.netns);
    const d = new IpsecDriver(gatewayContext(a), { viciSocket: `${topo.dir}/no-charon.vici` });
    await expect(d.connect(peerSpec('ipsec', a, b, keys))).rejects.toThrow(/^ipsec driver: VICI socket \/.*no-charon\.vici unreachable \(ENOENT\): no such socket/);
    expect(await snapshot(a.netns)).toEqual(before);
  });

  it('says when kernel-libipsec lacks a local address inside the local subnets, before loading anything', async () => {
    const a = topo.gw('a');
    const b = topo.gw('b');
    const d = new IpsecDriver(gatewayContext(a));
    try {
      const spec = { ...peerSpec('ipsec', a, b, keys), localSubnets: ['10.77.0.0/24'], healthCheck: undefined };
      await expect(d.connect(spec)).rejects.toThrow(/^ipsec driver: localSubnets: this gateway has no address inside 10\.77\.0\.0\/24 \(netns .*\); kernel-libipsec needs one/);
    } finally {
      await d.cleanup();
    }
  });

  it('never puts the PSK into errors', async () => {
    const a = topo.gw('a');
    const b = topo.gw('b');
    const spec = { ...peerSpec('ipsec', a, b, keys), backendConfig: { psk: 'short-secret' } };
    const err = (await new IpsecDriver(gatewayContext(a)).connect(spec).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe('ipsec driver: backendConfig.psk: missing or shorter than 16 characters');
  });
});
