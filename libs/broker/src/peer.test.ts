import { HEALTH_CHECK_IP_ANNOTATION, validateNatMapping, validateTunnelEndpoint } from '@strait/api';
import { describe, expect, it } from 'vitest';
import { pairVni } from './backend.ts';
import { desiredNatMapping, desiredTunnelEndpoint, parseRemaps, parseRemote, renderRemaps, translateIP, type LocalPlan } from './peer.ts';
import { brokerCluster, brokerEndpoint } from './testing/fixtures.ts';

const localEndpoint = brokerEndpoint('cluster-a', '172.18.0.1').spec;
const local: LocalPlan = { clusterId: 'cluster-a', namespace: 'strait-system', podCidrs: ['10.1.0.0/16'], serviceCidrs: ['10.96.0.0/16'], externalCidr: '10.250.0.0/24' };

function ok(r: ReturnType<typeof parseRemote>) {
  if (!r.ok) throw new Error(r.reason);
  return r.peer;
}

describe('parseRemote', () => {
  it('accepts a well-formed Cluster and Endpoint and reads the remap the peer announced for us', () => {
    const p = ok(parseRemote('cluster-b', brokerCluster('cluster-b', '10.1.0.0/16', { remaps: { 'cluster-a': '100.64.0.0/16' }, heartbeat: '2026-01-01T00:00:00Z' }), brokerEndpoint('cluster-b', '172.18.0.2'), local));
    expect(p).toMatchObject({ clusterId: 'cluster-b', presentation: '100.64.0.0/16', heartbeatMs: Date.parse('2026-01-01T00:00:00Z') });
    expect(p.endpoint?.privateIP).toBe('172.18.0.2');
  });

  it('accepts a Cluster whose gateway has not published its Endpoint yet', () => {
    expect(ok(parseRemote('cluster-b', brokerCluster('cluster-b', '10.2.0.0/16'), undefined, local)).endpoint).toBeUndefined();
  });

  const bad: Array<[string, () => [unknown, unknown], RegExp]> = [
    ['a bad CIDR', () => [{ ...brokerCluster('cluster-b', '10.2.0.0/16'), spec: { ...brokerCluster('cluster-b', '10.2.0.0/16').spec, podCIDRs: ['10.2.0.300/16'] } }, brokerEndpoint('cluster-b', '172.18.0.2')], /Cluster: spec\.podCIDRs\[0\]/],
    [
      'a missing key',
      () => {
        const e = brokerEndpoint('cluster-b', '172.18.0.2');
        return [brokerCluster('cluster-b', '10.2.0.0/16'), { ...e, spec: { ...e.spec, backendConfig: {} } }];
      },
      /Endpoint: .*wireguard/,
    ],
    [
      'an unknown backend',
      () => {
        const e = brokerEndpoint('cluster-b', '172.18.0.2');
        return [brokerCluster('cluster-b', '10.2.0.0/16'), { ...e, spec: { ...e.spec, backend: 'carrier-pigeon' } }];
      },
      /Endpoint: spec\.backend/,
    ],
    ['an Endpoint without a Cluster', () => [undefined, brokerEndpoint('cluster-b', '172.18.0.2')], /Endpoint without a Cluster/],
    ['a clusterID that is not its origin', () => [brokerCluster('cluster-c', '10.2.0.0/16'), undefined], /spec\.clusterID cluster-c does not match its origin label cluster-b/],
    ['a remaps annotation that is not JSON', () => [{ ...brokerCluster('cluster-b', '10.2.0.0/16'), metadata: { name: 'cluster-b', annotations: { 'net.strait.io/remaps': '{' } } }, undefined], /not JSON/],
    ['a remap for us of the wrong size', () => [brokerCluster('cluster-b', '10.2.0.0/16', { remaps: { 'cluster-a': '100.64.0.0/24' } }), undefined], /prefix length of our pod CIDR 10\.1\.0\.0\/16/],
    ['a heartbeat that is not a time', () => [brokerCluster('cluster-b', '10.2.0.0/16', { heartbeat: 'yesterday' }), undefined], /heartbeat "yesterday" is not a time/],
  ];
  it.each(bad)('refuses %s, naming the field', (_what, make, reason) => {
    const [c, e] = make();
    const r = parseRemote('cluster-b', c, e, local);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });
});

describe('desired objects', () => {
  const peer = ok(
    parseRemote('cluster-b', brokerCluster('cluster-b', '10.1.0.0/16', { remaps: { 'cluster-a': '100.64.0.0/16' }, externalCIDR: '10.251.0.0/24' }), brokerEndpoint('cluster-b', '172.18.0.2', { healthCheckIP: '10.1.0.10' }), local),
  );

  it('produce a TunnelEndpoint the API accepts, with remaps in both directions and the health-check address as we address it', () => {
    const t = desiredTunnelEndpoint(peer, local, localEndpoint, '100.66.0.0/16');
    expect(validateTunnelEndpoint(t)).toMatchObject({ ok: true });
    expect(t.metadata).toMatchObject({
      name: 'cluster-b',
      namespace: 'strait-system',
      labels: { 'net.strait.io/remote-cluster': 'cluster-b', 'app.kubernetes.io/managed-by': 'strait' },
      annotations: { [HEALTH_CHECK_IP_ANNOTATION]: '100.66.0.10' },
    });
    expect(t.spec).toEqual({
      remoteClusterID: 'cluster-b',
      endpoint: { address: '172.18.0.2', port: 51820 },
      backend: 'wireguard',
      backendConfig: { wireguard: { publicKey: expect.any(String), port: 51820 } },
      remote: { podCIDRs: ['10.1.0.0/16'], externalCIDR: '10.251.0.0/24' },
      remap: { remotePodCIDR: '100.66.0.0/16', localPodCIDR: '100.64.0.0/16' },
    });
  });

  it('produce no remap when neither side needs one', () => {
    const p = ok(parseRemote('cluster-b', brokerCluster('cluster-b', '10.2.0.0/16'), brokerEndpoint('cluster-b', '172.18.0.2', { healthCheckIP: '10.2.0.10' }), local));
    const t = desiredTunnelEndpoint(p, local, localEndpoint, undefined);
    expect(t.spec.remap).toBeUndefined();
    expect(t.metadata?.annotations?.[HEALTH_CHECK_IP_ANNOTATION]).toBe('10.2.0.10');
  });

  it('use the backend both clusters choose, with the peer\'s settings for it (VXLAN: the pair\'s VNI)', () => {
    const p = ok(parseRemote('cluster-b', brokerCluster('cluster-b', '10.2.0.0/16'), brokerEndpoint('cluster-b', '172.18.0.2', { backends: ['vxlan', 'ipsec'] }), local));
    const mine = brokerEndpoint('cluster-a', '172.18.0.1', { backends: ['ipsec', 'vxlan', 'wireguard'] }).spec;
    const t = desiredTunnelEndpoint(p, local, mine, undefined);
    expect(validateTunnelEndpoint(t)).toMatchObject({ ok: true });
    expect(t.spec).toMatchObject({ endpoint: { address: '172.18.0.2', port: 500 }, backend: 'ipsec', backendConfig: { ipsec: { ikeID: 'cluster-b', port: 500, natTPort: 4500 } } });
    const v = desiredTunnelEndpoint(p, local, brokerEndpoint('cluster-a', '172.18.0.1', { backends: ['wireguard', 'vxlan'] }).spec, undefined);
    expect(v.spec).toMatchObject({ endpoint: { address: '172.18.0.2', port: 4789 }, backend: 'vxlan', backendConfig: { vxlan: { vni: pairVni('cluster-a', 'cluster-b'), port: 4789 } } });
    expect(() => desiredTunnelEndpoint(p, local, localEndpoint, undefined)).toThrow(/no cable driver in common: cluster-a offers wireguard .*; cluster-b offers vxlan, ipsec/);
  });

  it('produce the NatMapping offering our external CIDR to the peer pods as they appear here', () => {
    const n = desiredNatMapping(peer, local, '100.66.0.0/16');
    expect(validateNatMapping(n)).toMatchObject({ ok: true });
    expect(n?.spec).toEqual({ clusterID: 'cluster-b', podCIDR: '100.66.0.0/16', externalCIDR: '10.250.0.0/24', entries: [] });
    expect(desiredNatMapping(peer, { ...local, externalCidr: undefined }, undefined)).toBeUndefined();
  });
});

describe('helpers', () => {
  it('translate an address to the same offset of the remapped CIDR', () => {
    expect(translateIP('10.1.2.3', '10.1.0.0/16', '100.64.0.0/16')).toBe('100.64.2.3');
    expect(translateIP('10.2.2.3', '10.1.0.0/16', '100.64.0.0/16')).toBeUndefined();
  });

  it('render and parse the remaps annotation (sorted, round trip)', () => {
    const text = renderRemaps(new Map([['c', '100.65.0.0/16'], ['b', '100.64.0.0/16']]));
    expect(text).toBe('{"b":{"podCIDR":"100.64.0.0/16"},"c":{"podCIDR":"100.65.0.0/16"}}');
    expect([...parseRemaps(text)]).toEqual([['b', '100.64.0.0/16'], ['c', '100.65.0.0/16']]);
    expect(() => parseRemaps('{"b":{"podCIDR":"nope"}}')).toThrow(/b\.podCIDR must be a CIDR/);
  });
});
