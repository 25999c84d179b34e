import { describe, expect, it } from 'vitest';
import { DriverConfigError, type PeerSpec } from './types.ts';
import { assertNoOverlap, normalizePeer } from './validate.ts';

const spec = (over: Partial<PeerSpec> = {}): PeerSpec =>
  ({
    clusterId: 'cluster-b',
    backend: 'vxlan',
    endpoint: { ip: '192.0.2.2' },
    remoteSubnets: ['10.2.0.0/16'],
    localSubnets: ['10.1.0.0/16'],
    backendConfig: { vni: 7 },
    healthCheck: { localIp: '10.1.0.1', remoteIp: '10.2.0.1' },
    ...over,
  }) as PeerSpec;

describe('peer spec validation', () => {
  it('normalises a valid spec', () => {
    const n = normalizePeer('vxlan', spec({ remoteSubnets: ['10.2.0.0/16', 'FD02::/64'] }), 4789);
    expect(n.clusterId).toBe('cluster-b');
    expect(n.endpointPort).toBe(4789);
    expect(n.remoteSubnets.map((p) => p.text)).toEqual(['10.2.0.0/16', 'fd02::/64']);
  });

  it.each([
    [{ clusterId: 'Cluster_B' }, 'clusterId: "Cluster_B" is not a cluster id'],
    [{ backend: 'wireguard' as const }, 'backend: peer cluster-b asks for backend "wireguard", this driver is vxlan'],
    [{ endpoint: { ip: 'gw.example' } }, 'endpoint.ip: "gw.example" is not an IP address'],
    [{ endpoint: { ip: '192.0.2.2', port: 0 } }, 'endpoint.port: 0 is not a port number'],
    [{ remoteSubnets: [] }, 'remoteSubnets: must name at least one CIDR prefix'],
    [{ remoteSubnets: ['10.2.0.1/16'] }, 'remoteSubnets[0]: "10.2.0.1/16" is not a CIDR prefix with host bits zero'],
    [{ remoteSubnets: ['10.2.0.0/16', '10.2.3.0/24'] }, 'remoteSubnets: 10.2.0.0/16 and 10.2.3.0/24 overlap'],
    [{ remoteSubnets: ['10.1.0.0/24'] }, 'remoteSubnets: 10.1.0.0/24 overlaps local subnet 10.1.0.0/16'],
    [{ healthCheck: { localIp: '10.1.0.1', remoteIp: '10.9.0.1' } }, 'healthCheck.remoteIp: 10.9.0.1 is not inside remoteSubnets'],
    [{ healthCheck: { localIp: '10.8.0.1', remoteIp: '10.2.0.1' } }, 'healthCheck.localIp: 10.8.0.1 is not inside localSubnets'],
    [{ backendConfig: undefined as never }, 'backendConfig: missing'],
  ])('rejects %j', (over, message) => {
    let err: unknown;
    try {
      normalizePeer('vxlan', spec(over), 4789);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DriverConfigError);
    expect((err as Error).message).toContain(message);
  });

  it('reports overlap with another peer by name', () => {
    const b = normalizePeer('vxlan', spec(), 4789);
    const c = normalizePeer('vxlan', spec({ clusterId: 'cluster-c', remoteSubnets: ['10.2.128.0/17'], healthCheck: undefined }), 4789);
    expect(() => assertNoOverlap('vxlan', c, [b])).toThrow('vxlan driver: remoteSubnets: 10.2.128.0/17 of peer cluster-c overlaps 10.2.0.0/16 of peer cluster-b');
    expect(() => assertNoOverlap('vxlan', b, [b])).not.toThrow();
  });
});
