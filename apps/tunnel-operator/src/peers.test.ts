import { HEALTH_CHECK_IP_ANNOTATION, type TunnelEndpoint } from '@strait/api';
import { describe, expect, it } from 'vitest';
import { PeerSpecError, desiredPeer, hostPeerState, peerHealthAddresses, remapTable, translateIp } from './peers.ts';

const KEY = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';

function tep(over: Partial<TunnelEndpoint['spec']> = {}, name = 'cluster-b'): TunnelEndpoint {
  return {
    apiVersion: 'net.strait.io/v1alpha1',
    kind: 'TunnelEndpoint',
    metadata: { name, namespace: 'strait-system', generation: 3 },
    spec: {
      remoteClusterID: name,
      endpoint: { address: '172.31.0.3', port: 51820 },
      backend: 'wireguard',
      backendConfig: { wireguard: { publicKey: KEY, port: 51820 } },
      remote: { podCIDRs: ['10.2.0.0/16'] },
      ...over,
    },
  } as TunnelEndpoint;
}

const local = { clusterId: 'cluster-a', podCidrs: ['10.1.0.0/16'], ipsecPsk: 'a-long-enough-pre-shared-key' };

describe('desiredPeer', () => {
  it('maps a WireGuard TunnelEndpoint to a driver PeerSpec without remap', () => {
    const d = desiredPeer(tep(), local);
    expect(d).toMatchObject({ key: 'strait-system/cluster-b', clusterId: 'cluster-b', generation: 3, routed: ['10.2.0.0/16'], remap: [] });
    expect(d.spec).toEqual({
      clusterId: 'cluster-b',
      backend: 'wireguard',
      endpoint: { ip: '172.31.0.3', port: 51820 },
      remoteSubnets: ['10.2.0.0/16'],
      localSubnets: ['10.1.0.0/16'],
      backendConfig: { publicKey: KEY },
    });
  });

  it('routes the remapped remote CIDRs and offers our remapped pod CIDR when pod CIDRs conflict', () => {
    const d = desiredPeer(
      tep({ remote: { podCIDRs: ['10.1.0.0/16'], externalCIDR: '10.200.0.0/16' }, remap: { remotePodCIDR: '10.50.0.0/16', localPodCIDR: '10.60.0.0/16', remoteExternalCIDR: '10.70.0.0/16' } }),
      local,
    );
    expect(d.routed).toEqual(['10.50.0.0/16', '10.70.0.0/16']);
    expect(d.spec.remoteSubnets).toEqual(['10.50.0.0/16', '10.70.0.0/16']);
    expect(d.spec.localSubnets).toEqual(['10.60.0.0/16']);
    expect(d.remap).toEqual([{ from: '10.1.0.0/16', to: '10.60.0.0/16' }]);
  });

  it('takes the IPsec PSK from the key Secret and the remote IKE id from the spec', () => {
    const d = desiredPeer(tep({ backend: 'ipsec', backendConfig: { ipsec: { ikeID: 'cluster-b', port: 500 } } }), local);
    expect(d.spec.backendConfig).toEqual({ psk: local.ipsecPsk, remoteId: 'cluster-b' });
    expect(() => desiredPeer(tep({ backend: 'ipsec', backendConfig: { ipsec: { ikeID: 'b', port: 500 } } }), { ...local, ipsecPsk: undefined })).toThrow(/ipsec-psk/);
  });

  it('refuses a local remap without our pod CIDR, naming the field', () => {
    const e = (() => {
      try {
        desiredPeer(tep({ remap: { localPodCIDR: '10.60.0.0/16' } }), { ...local, podCidrs: [] });
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(PeerSpecError);
    expect((e as PeerSpecError).field).toBe('spec.remap.localPodCIDR');
    expect(() => desiredPeer(tep({ remap: { localPodCIDR: '10.60.0.0/24' } }), local)).toThrow(/prefix length/);
  });
});

describe('health check', () => {
  const withAnnotation = (ip: string, over: Partial<TunnelEndpoint['spec']> = {}) => {
    const t = tep(over);
    return { ...t, metadata: { ...t.metadata, annotations: { [HEALTH_CHECK_IP_ANNOTATION]: ip } } } as TunnelEndpoint;
  };
  it('probes the remote gateway address from the annotation, from our health-check address', () => {
    const d = desiredPeer(withAnnotation('10.2.255.254'), { ...local, healthCheckIp: '10.1.255.254' });
    expect(d.spec.healthCheck).toEqual({ localIp: '10.1.255.254', remoteIp: '10.2.255.254' });
    expect(desiredPeer(withAnnotation('10.2.255.254'), local).spec.healthCheck).toBeUndefined();
  });
  it('refuses an annotation outside the remote CIDRs, naming it', () => {
    expect(() => desiredPeer(withAnnotation('10.9.0.1'), { ...local, healthCheckIp: '10.1.255.254' })).toThrow(/health-check-ip\]: 10.9.0.1 is not inside/);
    expect(() => desiredPeer(withAnnotation('nope'), { ...local, healthCheckIp: '10.1.255.254' })).toThrow(/not an IP address/);
  });
  it('probes under a local remap from our health-check address as the peer knows it (assigned in the gateway namespace)', () => {
    const d = desiredPeer(withAnnotation('10.50.255.254', { remote: { podCIDRs: ['10.1.0.0/16'] }, remap: { remotePodCIDR: '10.50.0.0/16', localPodCIDR: '10.60.0.0/16' } }), { ...local, healthCheckIp: '10.1.255.254' });
    expect(d.spec.healthCheck).toEqual({ localIp: '10.60.255.254', remoteIp: '10.50.255.254' });
    expect(d.healthAddress).toBe('10.60.255.254');
    expect(peerHealthAddresses([d, d])).toEqual([{ dev: 'strait.gateway', address: '10.60.255.254/32', noprefixroute: true }]);
    // Without a remap nothing is added: the layout assigns --health-check-ip itself.
    expect(desiredPeer(withAnnotation('10.2.255.254'), { ...local, healthCheckIp: '10.1.255.254' }).healthAddress).toBeUndefined();
  });

  it('translates an address 1:1 between prefixes of the same length', () => {
    expect(translateIp('10.1.255.254', '10.1.0.0/16', '100.64.0.0/16')).toBe('100.64.255.254');
    expect(translateIp('fd00::1:2', 'fd00::/64', 'fd99::/64')).toBe('fd99::1:2');
    expect(translateIp('10.2.0.1', '10.1.0.0/16', '100.64.0.0/16')).toBeUndefined();
    expect(translateIp('10.1.0.1', '10.1.0.0/16', '100.64.0.0/24')).toBeUndefined();
  });
});

describe('host state and remap table', () => {
  const b = desiredPeer(tep(), local);
  const c = desiredPeer(tep({ remote: { podCIDRs: ['10.1.0.0/16'] }, remap: { remotePodCIDR: '10.50.0.0/16', localPodCIDR: '10.60.0.0/16' } }, 'cluster-c'), local);

  it('sends traffic to and from every remote CIDR to table 18952, which routes it into the veth', () => {
    const s = hostPeerState([b, c], '169.254.189.2');
    expect(s.rules).toEqual([
      { priority: 18950, to: '10.2.0.0/16', table: 18952 },
      { priority: 18951, from: '10.2.0.0/16', table: 18952 },
      { priority: 18950, to: '10.50.0.0/16', table: 18952 },
      { priority: 18951, from: '10.50.0.0/16', table: 18952 },
    ]);
    expect(s.routes).toEqual([
      { dst: '10.2.0.0/16', via: '169.254.189.2', dev: 'strait.host', table: 18952 },
      { dst: '10.50.0.0/16', via: '169.254.189.2', dev: 'strait.host', table: 18952 },
    ]);
    expect(hostPeerState([b], '169.254.189.2').rules.map((r) => r.to ?? r.from)).toEqual(['10.2.0.0/16', '10.2.0.0/16']);
  });

  it('NATs only the remapped peer, 1:1 by prefix, both ways', () => {
    const t = remapTable([b, c]);
    expect(t.name).toBe('strait_remap');
    expect(t.chains.find((x) => x.name === 'postrouting')?.rules).toEqual([
      'ip saddr 10.1.0.0/16 ip daddr { 10.50.0.0/16 } snat ip prefix to ip saddr map { 10.1.0.0/16 : 10.60.0.0/16 }',
    ]);
    expect(t.chains.find((x) => x.name === 'prerouting')?.rules).toEqual([
      'ip saddr { 10.50.0.0/16 } ip daddr 10.60.0.0/16 dnat ip prefix to ip daddr map { 10.60.0.0/16 : 10.1.0.0/16 }',
    ]);
    expect(remapTable([b]).chains.every((x) => x.rules.length === 0)).toBe(true);
  });
});
