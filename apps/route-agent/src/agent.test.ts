import { EndpointResource, GatewayResource, TunnelEndpointResource, type Endpoint, type Gateway, type TunnelEndpoint } from '@strait/api';
import { EventResource, FakeKubeApi, LeaseResource, NodeResource, type EventsV1Event, type Lease } from '@strait/kube';
import { FakeNetwork, HOST } from '@strait/net';
import { createLogger } from '@strait/observability';
import { afterEach, describe, expect, it } from 'vitest';
import { RouteAgent, type NodeObject } from './agent.ts';
import { RouteDatapath } from './datapath.ts';
import { ROUTE_PROTO } from './desired.ts';

const NS = 'strait-system';

function node(name: string, ip: string, gateway: boolean): NodeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: gateway ? { 'strait.io/gateway': 'true' } : {} }, status: { addresses: [{ type: 'InternalIP', address: ip }] } };
}

function tep(name: string, podCIDR: string): TunnelEndpoint {
  return {
    apiVersion: 'net.strait.io/v1alpha1',
    kind: 'TunnelEndpoint',
    metadata: { name, namespace: NS },
    spec: { remoteClusterID: name, endpoint: { address: '172.31.0.9', port: 51820 }, backend: 'wireguard', backendConfig: { wireguard: { publicKey: 'x' } }, remote: { podCIDRs: [podCIDR] } },
  } as unknown as TunnelEndpoint;
}

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('RouteAgent on the fake API server and the fake kernel', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0)) await s();
  });

  async function setup() {
    const api = new FakeKubeApi();
    const admin = <T extends object>(d: Parameters<FakeKubeApi['client']>[0]) => api.client<T & { metadata?: object }>(d, { admin: true });
    const nodes = admin<NodeObject>(NodeResource);
    for (const [n, ip, gw] of [['g1', '192.168.1.2', true], ['g2', '192.168.1.3', true], ['w1', '192.168.1.4', false]] as const) await nodes.create(node(n, ip, gw));
    const gateways = admin<Gateway>(GatewayResource);
    for (const [pod, n] of [['gw-pod-1', 'g1'], ['gw-pod-2', 'g2']]) await gateways.create({ apiVersion: 'net.strait.io/v1alpha1', kind: 'Gateway', metadata: { name: pod!, namespace: NS }, spec: { node: n! } } as Gateway);
    const leases = admin<Lease>(LeaseResource);
    await leases.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'strait-gateway', namespace: NS }, spec: { holderIdentity: 'gw-pod-1', leaseTransitions: 0 } } as Lease);
    const teps = admin<TunnelEndpoint>(TunnelEndpointResource);
    await teps.create(tep('b', '10.2.0.0/16'));
    const net = new FakeNetwork();
    const agent = new RouteAgent({
      clusterId: 'a',
      namespace: NS,
      nodeName: 'w1',
      leaseName: 'strait-gateway',
      leases: api.client<Lease>(LeaseResource),
      gateways: api.client<Gateway>(GatewayResource),
      endpoints: api.client<Endpoint>(EndpointResource),
      teps: api.client<TunnelEndpoint>(TunnelEndpointResource),
      nodes: api.client<NodeObject>(NodeResource),
      events: api.client<EventsV1Event>(EventResource),
      overlay: { vni: 4800, port: 4800, mtu: 1450, overlayCidr: '240.0.0.0/8', mss: 'pmtu' },
      datapath: new RouteDatapath({ ports: net, underlayDevice: async () => 'eth0' }),
      logger: createLogger({ name: 'route-agent-test', level: 'silent' }),
      resyncIntervalMs: 60_000,
    });
    stops.push(async () => {
      await agent.stop();
      api.stop();
    });
    const routes = () => net.allRoutes(HOST).filter((r) => r.proto === ROUTE_PROTO).map((r) => `${r.route.dst} via ${r.route.via}`);
    const events = async () => (await api.client<EventsV1Event>(EventResource, { admin: true }).list({})).items;
    return { api, agent, net, routes, events, leases, teps };
  }

  it('routes the TunnelEndpoints\' CIDRs to the Lease holder\'s node and follows a new holder (Repointed Event)', async () => {
    const s = await setup();
    await s.agent.start();
    expect(s.agent.ready).toBe(true);
    expect(s.routes()).toEqual(['10.2.0.0/16 via 240.168.1.2']);
    await s.teps.create(tep('c', '10.3.0.0/16'));
    await until(() => (s.routes().length === 2 ? true : undefined));
    await s.leases.patch({ namespace: NS, name: 'strait-gateway' }, { spec: { holderIdentity: 'gw-pod-2', leaseTransitions: 1 } }, { type: 'merge' });
    await until(() => (s.routes().every((r) => r.endsWith('240.168.1.3')) ? true : undefined));
    const ev = await until(async () => (await s.events()).find((e) => e.reason === 'Repointed'));
    expect(ev).toMatchObject({ type: 'Normal', regarding: { kind: 'Node', name: 'w1' }, reportingController: 'net.strait.io/route-agent' });
    expect(ev.note).toContain('from g1 to g2');
    expect((await s.events()).some((e) => e.reason === 'RoutesProgrammed')).toBe(true);
  });

  it('a malformed TunnelEndpoint gets a Warning Event and is skipped; the other peers keep their routes', async () => {
    const s = await setup();
    await s.teps.create({ ...tep('bad', '10.9.0.0/16'), spec: { ...tep('bad', '10.9.0.0/16').spec, remote: { podCIDRs: ['10.9.0.1/16'] } } } as TunnelEndpoint);
    await s.agent.start();
    expect(s.routes()).toEqual(['10.2.0.0/16 via 240.168.1.2']);
    const ev = await until(async () => (await s.events()).find((e) => e.reason === 'InvalidTunnelEndpoint'));
    expect(ev).toMatchObject({ type: 'Warning', regarding: { kind: 'TunnelEndpoint', name: 'bad' } });
    expect(ev.note).toContain('spec.remote.podCIDRs[0]: 10.9.0.1/16 has host bits set');
  });

  it('a Lease holder without a Gateway object or Node keeps the last gateway and says why (GatewayUnresolved)', async () => {
    const s = await setup();
    await s.agent.start();
    await s.leases.patch({ namespace: NS, name: 'strait-gateway' }, { spec: { holderIdentity: 'gw-pod-9' } }, { type: 'merge' });
    const ev = await until(async () => (await s.events()).find((e) => e.reason === 'GatewayUnresolved'));
    expect(ev.note).toContain('gw-pod-9 has no Gateway object');
    expect(s.routes()).toEqual(['10.2.0.0/16 via 240.168.1.2']);
  });
});
