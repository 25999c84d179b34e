import { describe, expect, it } from 'vitest';
import {
  API_GROUP_VERSION,
  GATEWAY_NETNS,
  GATEWAY_NODE_LABEL,
  GATEWAY_ROLE_LABEL,
  GATEWAY_VETH,
  HOST_VETH,
  NFT_TABLE,
  ORIGIN_CLUSTER_LABEL,
  ROUTING_TABLE_ID,
  VXLAN_LINK,
  subjects,
} from './constants.ts';

describe('constants', () => {
  it('match the design', () => {
    expect(API_GROUP_VERSION).toBe('net.strait.io/v1alpha1');
    expect(GATEWAY_ROLE_LABEL).toBe('net.strait.io/gateway');
    expect(GATEWAY_NODE_LABEL).toBe('strait.io/gateway');
    expect(ORIGIN_CLUSTER_LABEL).toBe('net.strait.io/origin-cluster');
    expect(ROUTING_TABLE_ID).toBe(18952);
    expect(GATEWAY_NETNS).toBe('strait-netns');
    expect([HOST_VETH, GATEWAY_VETH]).toEqual(['strait.host', 'strait.gateway']);
    expect(NFT_TABLE).toBe('inet strait');
    expect(VXLAN_LINK).toBe('vx-strait');
  });

  it('keeps link names within IFNAMSIZ (15 characters)', () => {
    for (const name of [HOST_VETH, GATEWAY_VETH, VXLAN_LINK]) expect(name.length).toBeLessThanOrEqual(15);
  });
});

describe('NATS subjects', () => {
  it('builds the subjects of the design', () => {
    expect(subjects.gatewayLeader('cluster-a')).toBe('strait.cluster-a.gateway.leader');
    expect(subjects.tunnelStatus('cluster-a', 'cluster-b')).toBe('strait.cluster-a.tunnel.cluster-b.status');
    expect(subjects.tunnelStatusAll('cluster-a')).toBe('strait.cluster-a.tunnel.*.status');
    expect(subjects.brokerEndpoint('cluster-b')).toBe('strait.broker.endpoint.cluster-b');
    expect(subjects.brokerEndpointAll()).toBe('strait.broker.endpoint.*');
  });

  it.each(['', 'a.b', '*', '>', 'A', 'a b', 'x'.repeat(64)])('refuses %j as a subject token', (bad) => {
    expect(() => subjects.gatewayLeader(bad)).toThrow(/NATS subject cluster must be a cluster ID/);
    expect(() => subjects.tunnelStatus('a', bad)).toThrow(/NATS subject peer must be a cluster ID/);
  });
});
