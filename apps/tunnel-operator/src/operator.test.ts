import { GatewayResource, EndpointResource, TunnelEndpointResource, type Endpoint, type Gateway, type TunnelEndpoint } from '@strait/api';
import type { ConnectionStatus, PeerSpec } from '@strait/drivers';
import { EventResource, FakeKubeApi, LeaseResource, type EventsV1Event, type Lease } from '@strait/kube';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayDatapath } from './datapath.ts';
import { TunnelOperator, batchPlan, requeueDelay } from './operator.ts';
import { desiredPeer, type PeerDesired } from './peers.ts';

const NS = 'strait-system';
const KEY = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const logger = pino({ level: 'silent' });

function tep(i: number): TunnelEndpoint {
  const id = `peer-${String(i).padStart(3, '0')}`;
  return {
    apiVersion: 'net.strait.io/v1alpha1',
    kind: 'TunnelEndpoint',
    metadata: { name: id, namespace: NS },
    spec: {
      remoteClusterID: id,
      endpoint: { address: '198.18.0.1', port: 51820 },
      backend: 'wireguard',
      backendConfig: { wireguard: { publicKey: KEY, port: 51820 } },
      remote: { podCIDRs: [`10.${64 + (i >> 8)}.${i & 255}.0/24`] },
    },
  } as TunnelEndpoint;
}

/**
 * The datapath as the operator sees it, counting its calls. Each kernel step takes a few milliseconds
 * (as a command would), so that peers arriving meanwhile can join the next batch.
 */
class CountingDatapath {
  hostApplies = 0;
  healthApplies = 0;
  connects = 0;
  readonly connected = new Map<string, PeerSpec>();
  statusReads = 0;
  deviceReads = 0;
  readonly cables = {
    status: (id: string): Promise<ConnectionStatus> => {
      this.statusReads++;
      const spec = this.connected.get(id);
      return spec ? Promise.resolve(status(spec)) : Promise.reject(new Error(`no peer ${id}`));
    },
    connections: (): Promise<ConnectionStatus[]> => {
      this.deviceReads++;
      return Promise.resolve([...this.connected.values()].map(status));
    },
  };
  async applyPeers(_peers: readonly PeerDesired[]): Promise<number> {
    this.hostApplies++;
    await sleep(5);
    return 0;
  }
  async applyHealthAddresses(_peers: readonly PeerDesired[]): Promise<number> {
    this.healthApplies++;
    await sleep(2);
    return 0;
  }
  async connect(d: PeerDesired): Promise<ConnectionStatus> {
    this.connects++;
    await sleep(1);
    this.connected.set(d.clusterId, d.spec);
    return status(d.spec);
  }
  disconnect(id: string): Promise<void> {
    this.connected.delete(id);
    return Promise.resolve();
  }
  warm(): Promise<void> {
    return Promise.resolve();
  }
  release(): Promise<number> {
    this.connected.clear();
    return Promise.resolve(0);
  }
}

function status(spec: PeerSpec): ConnectionStatus {
  return { clusterId: spec.clusterId, backend: spec.backend, state: 'Connecting', message: 'waiting for the first handshake', interface: 'strait-wg0', endpoint: '', rxBytes: 0, txBytes: 0, lastHandshake: undefined, rtt: undefined };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('TunnelOperator: peers applied in batches', () => {
  let op: TunnelOperator | undefined;
  afterEach(async () => {
    await op?.stop();
    op = undefined;
  });

  it('reconciles 100 peers with O(batches) host-state applies, one connect per peer, statuses for all', async () => {
    const api = new FakeKubeApi();
    const teps = api.client<TunnelEndpoint>(TunnelEndpointResource, { admin: true });
    const dp = new CountingDatapath();
    op = new TunnelOperator({
      clusterId: 'a',
      namespace: NS,
      nodeName: 'gw-1',
      podName: 'gw-1',
      teps,
      endpoints: api.client<Endpoint>(EndpointResource, { admin: true }),
      gateways: api.client<Gateway>(GatewayResource, { admin: true }),
      events: api.client<EventsV1Event>(EventResource, { admin: true }),
      leases: api.client<Lease>(LeaseResource, { admin: true }),
      election: { leaseName: 'gw', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 50 },
      datapath: dp as unknown as GatewayDatapath,
      local: { clusterId: 'a', podCidrs: ['10.0.0.0/16'] },
      logger,
      // No status tick during the test: the counts are those of the reconciles alone.
      statusIntervalMs: 600_000,
      handoverWaitMs: 0,
    });
    await op.start();
    await until('active', () => op!.active || undefined);
    const N = 100;
    for (let i = 0; i < N; i++) await teps.create(tep(i));
    await until(`${N} statuses`, async () => {
      const items = (await teps.list({ namespace: NS })).items.filter((t) => t.status?.phase === 'Connecting');
      return items.length === N ? true : undefined;
    });
    // Each peer reached the driver once (its later reconciles — finalizer, status, requeues — only read
    // its status), and the host state was applied once per batch, not once per peer.
    expect(dp.connects).toBe(N);
    expect(op.batches).toBeLessThan(N / 4);
    // (+2: the activation applies the — then empty — peer set before and after connecting it.)
    expect(dp.hostApplies).toBeLessThanOrEqual(op.batches + 2);
    expect(dp.healthApplies).toBe(0);
    // The later reconciles of a peer (its finalizer and status writes come back as events) read statuses
    // from shared reads of every connection, not one device read per peer.
    expect(dp.statusReads).toBe(0);
    console.log(`${N} peers: ${op.batches} batches, ${dp.hostApplies} host-state applies, ${dp.connects} driver connects, ${dp.deviceReads} reads of every connection`);
  }, 60_000);
});

describe('batchPlan', () => {
  const local = { clusterId: 'a', podCidrs: ['10.0.0.0/16'] };
  const d = (i: number, over: Partial<TunnelEndpoint['spec']> = {}): PeerDesired => {
    const t = tep(i);
    return desiredPeer({ ...t, spec: { ...t.spec, ...over } } as TunnelEndpoint, local);
  };

  it('new peers without remap: nothing to disconnect, health addresses unchanged', () => {
    const plan = batchPlan(new Map([['strait-system/peer-000', d(0)]]), [
      { key: 'strait-system/peer-001', d: d(1) },
      { key: 'strait-system/peer-002', d: d(2) },
    ]);
    expect(plan.disconnect).toEqual([]);
    expect(plan.healthChanged).toBe(false);
    expect(plan.peersAfter.map((p) => p.clusterId)).toEqual(['peer-000', 'peer-001', 'peer-002']);
  });

  it('a peer whose cluster id changed is disconnected first', () => {
    const plan = batchPlan(new Map([['k', d(0)]]), [{ key: 'k', d: d(1) }]);
    expect(plan.disconnect).toEqual(['peer-000']);
    expect(plan.peersAfter.map((p) => p.clusterId)).toEqual(['peer-001']);
  });

  it('a changed health-check address re-applies the addresses once for the batch', () => {
    const applied = d(0);
    const moved = { ...applied, healthAddress: '10.99.0.1' };
    expect(batchPlan(new Map([['k', applied]]), [{ key: 'k', d: moved }]).healthChanged).toBe(true);
  });
});

describe('requeueDelay', () => {
  it('doubles from 0.5 s up to 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map(requeueDelay)).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000]);
  });
});
