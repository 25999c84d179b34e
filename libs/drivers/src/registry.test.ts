import { describe, expect, it } from 'vitest';
import { Cables, DriverRegistry, defaultRegistry } from './registry.ts';
import type { CableDriver, ConnectionStatus, PeerSpec } from './types.ts';
import { normalizePeer } from './validate.ts';
import { vxlanIfname, vxlanMac } from './vxlan/driver.ts';

const gateway = { clusterId: 'cluster-a', localIp: '192.0.2.1', stateDir: '/tmp/strait-unit' };

/** A driver that records calls (the registry and Cables logic only). */
function fakeDriver(backend: 'wireguard' | 'ipsec' | 'vxlan', log: string[]): CableDriver {
  const peers = new Map<string, PeerSpec>();
  const status = (id: string): ConnectionStatus => ({ clusterId: id, backend, state: 'Connected', message: '', interface: undefined, endpoint: '', rxBytes: 0, txBytes: 0, lastHandshake: undefined, rtt: undefined });
  return {
    backend,
    validate: (p) => void normalizePeer(backend, p, 1),
    init: async () => void log.push(`${backend}:init`),
    connect: async (p) => {
      log.push(`${backend}:connect:${p.clusterId}`);
      peers.set(p.clusterId, p);
      return status(p.clusterId);
    },
    disconnect: async (id) => void (peers.delete(id) && log.push(`${backend}:disconnect:${id}`)),
    status: async (id) => status(id),
    connections: async () => [...peers.keys()].map(status),
    cleanup: async () => void log.push(`${backend}:cleanup`),
    close: async () => undefined,
  };
}

const spec = (clusterId: string, backend: 'wireguard' | 'ipsec' | 'vxlan', subnet: string): PeerSpec =>
  ({ clusterId, backend, endpoint: { ip: '192.0.2.9' }, remoteSubnets: [subnet], localSubnets: ['10.1.0.0/16'], backendConfig: {} }) as unknown as PeerSpec;

describe('DriverRegistry', () => {
  it('lists known backends in the error for an unknown one', () => {
    expect(defaultRegistry().known()).toEqual(['ipsec', 'vxlan', 'wireguard']);
    expect(() => defaultRegistry().create('gre', gateway)).toThrow('registry driver: backend: unknown backend "gre"; known backends: ipsec, vxlan, wireguard');
    expect(() => new DriverRegistry().create('x', gateway)).toThrow('known backends: none');
  });

  it('refuses duplicate registrations and bad names', () => {
    const r = new DriverRegistry().register('a', () => fakeDriver('vxlan', []));
    expect(() => r.register('a', () => fakeDriver('vxlan', []))).toThrow(/registered already/);
    expect(() => r.register('Bad Name', () => fakeDriver('vxlan', []))).toThrow(/not a backend name/);
  });

  it('needs the WireGuard configuration for the wireguard driver', () => {
    expect(() => defaultRegistry().create('wireguard', gateway)).toThrow(/needs its configuration/);
  });
});

describe('Cables', () => {
  function cables(log: string[]) {
    const reg = new DriverRegistry();
    for (const b of ['wireguard', 'ipsec', 'vxlan'] as const) reg.register(b, () => fakeDriver(b, log));
    return new Cables(reg, gateway);
  }

  it('routes each peer to its backend and checks overlap across drivers', async () => {
    const log: string[] = [];
    const c = cables(log);
    await c.connect(spec('cluster-b', 'wireguard', '10.2.0.0/16'));
    await c.connect(spec('cluster-c', 'ipsec', '10.3.0.0/16'));
    await expect(c.connect(spec('cluster-d', 'vxlan', '10.3.1.0/24'))).rejects.toThrow('vxlan driver: remoteSubnets: 10.3.1.0/24 of peer cluster-d overlaps 10.3.0.0/16 of peer cluster-c');
    expect((await c.connections()).map((s) => `${s.clusterId}:${s.backend}`)).toEqual(['cluster-b:wireguard', 'cluster-c:ipsec']);
    expect(log).toEqual(['wireguard:connect:cluster-b', 'ipsec:connect:cluster-c']);
  });

  it('switches a peer\'s backend: validate on the new, disconnect the old, connect the new', async () => {
    const log: string[] = [];
    const c = cables(log);
    await c.connect(spec('cluster-b', 'ipsec', '10.2.0.0/16'));
    await c.connect(spec('cluster-b', 'wireguard', '10.2.0.0/16'));
    expect(log).toEqual(['ipsec:connect:cluster-b', 'ipsec:disconnect:cluster-b', 'wireguard:connect:cluster-b']);
    expect((await c.status('cluster-b')).backend).toBe('wireguard');
    await c.disconnect('cluster-b');
    await expect(c.status('cluster-b')).rejects.toThrow(/no peer "cluster-b"/);
  });
});

describe('VXLAN naming', () => {
  it('derives distinct, locally administered MACs per end and short interface names', () => {
    const a = vxlanMac('cluster-a', 100);
    const b = vxlanMac('cluster-b', 100);
    expect(a).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    expect(a).not.toBe(b);
    expect(vxlanMac('cluster-a', 100)).toBe(a);
    expect(vxlanIfname(16_777_215).length).toBeLessThanOrEqual(15);
  });
});
