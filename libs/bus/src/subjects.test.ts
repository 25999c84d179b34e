import { describe, expect, it } from 'vitest';
import { BrokerEndpointSubject, GatewayLeaderSubject, StraitSubjects, TunnelStatusSubject } from './subjects.ts';

const ts = '2026-01-02T03:04:05.678Z';

describe('Strait subjects', () => {
  it('have the documented subject layout', () => {
    expect(GatewayLeaderSubject.subject({ cluster: 'east' })).toBe('strait.east.gateway.leader');
    expect(TunnelStatusSubject.subject({ cluster: 'east', peer: 'west' })).toBe('strait.east.tunnel.west.status');
    expect(BrokerEndpointSubject.subject({ cluster: 'east' })).toBe('strait.broker.endpoint.east');
    expect(BrokerEndpointSubject.pattern('*')).toBe('strait.broker.endpoint.*');
    expect(Object.values(StraitSubjects).map((d) => d.kind)).toEqual(['gateway_leader', 'tunnel_status', 'broker_endpoint']);
  });

  it('refuses a cluster id that is not a single token', () => {
    for (const cluster of ['a.b', 'a*', 'a b', '', '>']) {
      expect(() => GatewayLeaderSubject.subject({ cluster })).toThrow(/subject parameter 'cluster'/);
    }
  });

  it('gateway leader payload', () => {
    const ok = { cluster: 'east', holder: 'gw-0_abc', node: 'node-1', leaseTransitions: 3, timestamp: ts };
    expect(GatewayLeaderSubject.check(ok).ok).toBe(true);
    expect(GatewayLeaderSubject.check({ ...ok, leaseTransitions: -1 }).ok).toBe(false);
    expect(GatewayLeaderSubject.check({ ...ok, leaseTransitions: 1.5 }).ok).toBe(false);
    expect(GatewayLeaderSubject.check({ ...ok, holder: '' }).ok).toBe(false);
    expect(GatewayLeaderSubject.check({ ...ok, timestamp: 'yesterday' }).ok).toBe(false);
    expect(GatewayLeaderSubject.check({ ...ok, cluster: 'a.b' }).ok).toBe(false);
    const { node: _node, ...missing } = ok;
    const r = GatewayLeaderSubject.check(missing);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join(' ')).toMatch(/node/);
  });

  it('tunnel status payload', () => {
    const ok = { cluster: 'east', peer: 'west', status: 'Connected', rttMs: 0.42, timestamp: ts } as const;
    expect(TunnelStatusSubject.check(ok).ok).toBe(true);
    expect(TunnelStatusSubject.check({ cluster: 'east', peer: 'west', status: 'Connecting', timestamp: ts }).ok).toBe(true);
    expect(TunnelStatusSubject.check({ ...ok, status: 'Error' }).ok).toBe(true);
    expect(TunnelStatusSubject.check({ ...ok, status: 'Up' }).ok).toBe(false);
    expect(TunnelStatusSubject.check({ ...ok, rttMs: -1 }).ok).toBe(false);
    expect(TunnelStatusSubject.check({ ...ok, rttMs: '3' }).ok).toBe(false);
  });

  it('tolerates additional fields from newer publishers', () => {
    expect(TunnelStatusSubject.check({ cluster: 'e', peer: 'w', status: 'Connected', timestamp: ts, future: { x: 1 } }).ok).toBe(true);
  });

  it('broker endpoint payload', () => {
    const endpoint = { publicIP: '203.0.113.7', privateIP: '10.0.0.5', backend: 'wireguard', port: 51820, resourceVersion: '12345' } as const;
    const ok = { cluster: 'east', endpoint, timestamp: ts };
    expect(BrokerEndpointSubject.check(ok).ok).toBe(true);
    expect(BrokerEndpointSubject.check({ ...ok, endpoint: { ...endpoint, publicIP: '2001:db8::1', backend: 'ipsec' } }).ok).toBe(true);
    expect(BrokerEndpointSubject.check({ ...ok, endpoint: { ...endpoint, publicIP: '999.1.1.1' } }).ok).toBe(false);
    expect(BrokerEndpointSubject.check({ ...ok, endpoint: { ...endpoint, backend: 'gre' } }).ok).toBe(false);
    expect(BrokerEndpointSubject.check({ ...ok, endpoint: { ...endpoint, port: 0 } }).ok).toBe(false);
    expect(BrokerEndpointSubject.check({ ...ok, endpoint: { ...endpoint, port: 65536 } }).ok).toBe(false);
    expect(BrokerEndpointSubject.check({ ...ok, endpoint: { ...endpoint, resourceVersion: '' } }).ok).toBe(false);
    expect(BrokerEndpointSubject.check({ cluster: 'east', timestamp: ts }).ok).toBe(false);
  });
});
