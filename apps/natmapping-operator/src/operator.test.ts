import { NatMappingResource, type NatMapping, type NatMappingNodeStatus } from '@strait/api';
import { EventResource, FakeKubeApi, type ApplyObject, type ApplyOptions, type Condition, type EventsV1Event, type ResourceClient } from '@strait/kube';
import { FakeNetwork, NAT_MAP_TABLE } from '@strait/net';
import { createRegistry } from '@strait/observability';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { NatDatapath } from './datapath.ts';
import { NatMetrics } from './metrics.ts';
import { NatMappingOperator } from './operator.ts';
import { fakeNftRunner } from './testing/fake-nft-runner.ts';

const NS = 'strait-system';
const GW = 'gw-netns';
const logger = pino({ level: 'silent' });

interface Entry {
  externalIP: string;
  realIP: string;
}

function natMapping(name: string, entries: Entry[], spec: { podCIDR?: string; externalCIDR?: string } = {}): NatMapping {
  return {
    apiVersion: 'net.strait.io/v1alpha1',
    kind: 'NatMapping',
    metadata: { name, namespace: NS },
    spec: { clusterID: 'cluster-b', podCIDR: spec.podCIDR ?? '10.20.0.0/16', externalCIDR: spec.externalCIDR ?? '10.32.0.0/16', entries },
  };
}

const entry = (i: number, real = `192.168.0.${i}`): Entry => ({ externalIP: `10.32.0.${i}`, realIP: real });

/**
 * Server-side apply of the status as the API server does it for NatMapping: `nodes` and
 * `conditions` are list-maps (by node / by type), so an apply only replaces the items it lists.
 * FakeKubeApi approximates apply as a merge patch, which would replace the whole lists.
 */
function withListMapStatusApply(client: ResourceClient<NatMapping>, applies: string[]): ResourceClient<NatMapping> {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'applyStatus') return Reflect.get(target, prop, receiver) as unknown;
      return async (obj: ApplyObject<NatMapping>, opts?: ApplyOptions) => {
        applies.push(`${opts?.fieldManager ?? ''} ${obj.metadata.name}`);
        const cur = await target.get({ name: obj.metadata.name, namespace: obj.metadata.namespace });
        if (!cur) return target.applyStatus(obj, opts);
        const byKey = <T>(old: readonly T[] | undefined, add: readonly T[] | undefined, k: (x: T) => string): T[] => {
          const m = new Map((old ?? []).map((x) => [k(x), x]));
          for (const x of add ?? []) m.set(k(x), x);
          return [...m.values()];
        };
        const status = {
          ...cur.status,
          nodes: byKey(cur.status?.nodes, obj.status?.nodes as NatMappingNodeStatus[] | undefined, (n) => n.node),
          conditions: byKey(cur.status?.conditions as Condition[] | undefined, obj.status?.conditions as Condition[] | undefined, (c) => c.type),
        };
        return target.patchStatus({ name: obj.metadata.name, namespace: obj.metadata.namespace }, { status }, { type: 'merge' });
      };
    },
  });
}

interface Node {
  operator: NatMappingOperator;
  datapath: NatDatapath;
  metrics: NatMetrics;
  registry: ReturnType<typeof createRegistry>;
}

class Harness {
  readonly api = new FakeKubeApi();
  readonly admin = this.api.client<NatMapping>(NatMappingResource, { admin: true });
  readonly events = this.api.client<EventsV1Event>(EventResource, { admin: true });
  readonly net = new FakeNetwork();
  readonly statusApplies: string[] = [];
  readonly nodes: Node[] = [];
  nsId = 'ns-1';

  async start(nodeName = 'gw-1', net = this.net): Promise<Node> {
    const datapath = new NatDatapath({ netnsName: GW, netns: net.netns, sysctl: net.sysctl, nft: net.nft, runner: fakeNftRunner(net), namespaceId: () => this.nsId, logger });
    const registry = createRegistry({ defaultMetrics: false });
    const metrics = new NatMetrics(registry);
    const operator = new NatMappingOperator({
      client: withListMapStatusApply(this.api.client<NatMapping>(NatMappingResource), this.statusApplies),
      events: this.api.client<EventsV1Event>(EventResource),
      namespace: NS,
      nodeName,
      datapath,
      logger,
      metrics,
    });
    await operator.start({ syncTimeoutMs: 5000 });
    const node = { operator, datapath, metrics, registry };
    this.nodes.push(node);
    return node;
  }

  async stopAll(): Promise<void> {
    for (const n of this.nodes.splice(0)) await n.operator.stop();
    this.api.stop();
  }

  get(name: string): NatMapping | undefined {
    return this.api.snapshot<NatMapping>(NatMappingResource).find((m) => m.metadata.name === name);
  }

  map4(net = this.net): Map<string, string> {
    return new Map(net.state.ns(GW).nft.get(`inet ${NAT_MAP_TABLE.name}`)?.sets.get('ext4')?.elements ?? []);
  }

  warnings(): EventsV1Event[] {
    return this.api.snapshot<EventsV1Event>(EventResource).filter((e) => e.type === 'Warning');
  }

  nftWrites(net = this.net): string[][] {
    return net.state.writes.filter((w) => w.lines.some((l) => /element|table|chain|rule/.test(l))).map((w) => [...w.lines]);
  }
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits until every queue is empty and stays so. */
async function settle(h: Harness): Promise<void> {
  let quiet = 0;
  while (quiet < 5) {
    await new Promise((r) => setTimeout(r, 10));
    const busy = h.nodes.some((n) => n.operator.table.queue.len() > 0 || n.operator.status.queue.len() > 0 || n.operator.table.queue.inFlight() > 0 || n.operator.status.queue.inFlight() > 0);
    quiet = busy ? 0 : quiet + 1;
  }
}

const harnesses: Harness[] = [];
function harness(): Harness {
  const h = new Harness();
  harnesses.push(h);
  return h;
}
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stopAll();
});

describe('NatMappingOperator', () => {
  it('creates the namespace with forwarding, programs the entries and reports them in status and metrics', async () => {
    const h = harness();
    await h.admin.create(natMapping('cluster-b', [entry(1), entry(2)]));
    const n = await h.start();
    await until('programmed', () => findNode(h.get('cluster-b'), 'gw-1')?.programmed === 2);
    expect(await h.net.netns.exists(GW)).toBe(true);
    expect((await h.net.sysctl.get(GW, ['net/ipv4/ip_forward'])).get('net/ipv4/ip_forward')).toBe('1');
    expect([...h.map4()]).toEqual([
      ['10.32.0.1', '192.168.0.1'],
      ['10.32.0.2', '192.168.0.2'],
    ]);
    const m = h.get('cluster-b');
    expect(findNode(m, 'gw-1')).toMatchObject({ node: 'gw-1', programmed: 2, errors: [], observedGeneration: 1 });
    expect(m?.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'Programmed'],
      ['Valid', 'True', 'AllEntriesValid'],
    ]);
    expect(h.statusApplies).toEqual(['natmapping-operator/gw-1 cluster-b']);
    const metrics = await n.registry.metrics();
    expect(metrics).toContain('strait_natmapping_entries_programmed{mapping="strait-system/cluster-b"} 2');
    expect(metrics).toContain('strait_natmapping_map_elements{family="ipv4"} 2');
    expect(metrics).toMatch(/strait_natmapping_apply_duration_seconds_count\{kind="table"\} 1/);
    expect(n.operator.synced).toBe(true);
  });

  it('without any NatMapping still creates the (empty) table and becomes synced', async () => {
    const h = harness();
    const n = await h.start();
    await until('synced', () => n.operator.synced);
    expect(h.net.state.ns(GW).nft.get(`inet ${NAT_MAP_TABLE.name}`)?.chains.get('prerouting')?.ruleTags).toHaveLength(2);
    expect(h.map4().size).toBe(0);
  });

  it('excludes an invalid entry (status + a Warning naming it) and keeps the valid ones', async () => {
    const h = harness();
    await h.admin.create(natMapping('cluster-b', [entry(1), { externalIP: '10.32.0.2', realIP: 'fd00::2' }, entry(3)]));
    await h.start();
    await until('status', () => findNode(h.get('cluster-b'), 'gw-1')?.programmed === 2);
    expect([...h.map4().keys()]).toEqual(['10.32.0.1', '10.32.0.3']);
    const m = h.get('cluster-b');
    expect(findNode(m, 'gw-1')?.errors).toEqual(['entries[1] 10.32.0.2 → fd00::2: realIP is IPv6 but externalIP is IPv4']);
    expect(m?.status?.conditions?.find((c) => c.type === 'Valid')).toMatchObject({ status: 'False', reason: 'InvalidEntries' });
    expect(m?.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Programmed' });
    const w = await until('event', () => h.warnings()[0]);
    expect(w).toMatchObject({ reason: 'InvalidEntry', reportingInstance: 'gw-1', regarding: { kind: 'NatMapping', name: 'cluster-b' } });
    expect(w.note).toContain('entries[1] 10.32.0.2 → fd00::2');
  });

  it('changes one entry among 1000 with one delete and one add', async () => {
    const h = harness();
    const many = Array.from({ length: 1000 }, (_, i) => ({ externalIP: `10.32.${i >> 8}.${i & 255}`, realIP: `192.168.${i >> 8}.${i & 255}` }));
    await h.admin.create(natMapping('cluster-b', many));
    await h.start();
    await until('programmed', () => findNode(h.get('cluster-b'), 'gw-1')?.programmed === 1000);
    const before = h.nftWrites().length;
    const cur = h.get('cluster-b');
    if (!cur) throw new Error('missing');
    const changed = many.map((e, i) => (i === 500 ? { ...e, realIP: '172.16.5.5' } : e));
    await h.admin.replace({ ...cur, spec: { ...cur.spec, entries: changed } });
    await until('changed', () => h.map4().get('10.33.1.244'.replace('10.33', '10.32')) === '172.16.5.5');
    await settle(h);
    expect(h.nftWrites().slice(before)).toEqual([
      ['delete element inet strait_natmap ext4 { 10.32.1.244 }', 'add element inet strait_natmap ext4 { 10.32.1.244 : 172.16.5.5 }'],
    ]);
    expect(findNode(h.get('cluster-b'), 'gw-1')).toMatchObject({ programmed: 1000, observedGeneration: 2 });
  });

  it('deleting a NatMapping removes exactly its elements; other mappings and foreign tables stay', async () => {
    const h = harness();
    await h.net.netns.ensure(GW);
    h.net.nft.seedForeign(GW, 'inet', 'someone_else');
    await h.admin.create(natMapping('a', [entry(1), entry(2)]));
    await h.admin.create(natMapping('b', [{ externalIP: '10.40.0.1', realIP: '192.168.4.1' }], { podCIDR: '10.21.0.0/16', externalCIDR: '10.40.0.0/16' }));
    await h.start();
    await until('both', () => h.map4().size === 3);
    const before = h.nftWrites().length;
    await h.admin.delete({ name: 'b', namespace: NS });
    await until('b gone', () => !h.map4().has('10.40.0.1'));
    await settle(h);
    expect([...h.map4().keys()]).toEqual(['10.32.0.1', '10.32.0.2']);
    const writes = h.nftWrites().slice(before).flat();
    expect(writes).toEqual(['delete element inet strait_natmap ext4 { 10.40.0.1 }', 'delete element inet strait_natmap src4 { 10.21.0.0/16 }']);
    expect(h.net.state.writes.length - before).toBeGreaterThan(0);
    expect(writes.some((l) => /chain|rule/.test(l))).toBe(false);
    expect(h.net.state.ns(GW).nft.has('inet someone_else')).toBe(true);
  });

  it("removes a mapping's entries as soon as its deletion starts, even while another finalizer holds it", async () => {
    const h = harness();
    await h.admin.create({ ...natMapping('a', [entry(1)]), metadata: { name: 'a', namespace: NS, finalizers: ['example.com/hold'] } });
    await h.admin.create(natMapping('b', [entry(2)]));
    await h.start();
    await until('both', () => h.map4().size === 2);
    await h.admin.delete({ name: 'a', namespace: NS });
    await until('a gone from the map', () => !h.map4().has('10.32.0.1'));
    expect(h.get('a')?.metadata.deletionTimestamp).toBeDefined();
    expect([...h.map4().keys()]).toEqual(['10.32.0.2']);
  });

  it('gives a contested externalIP to the older mapping, reports the newer one, and hands over when the older goes', async () => {
    const h = harness();
    await h.admin.create(natMapping('a-old', [entry(1)]));
    await h.admin.create(natMapping('b-new', [entry(1, '192.168.9.9'), entry(2)], { podCIDR: '10.21.0.0/16' }));
    await h.start();
    await until('b status', () => findNode(h.get('b-new'), 'gw-1')?.programmed === 1);
    expect(h.map4().get('10.32.0.1')).toBe('192.168.0.1');
    expect(findNode(h.get('b-new'), 'gw-1')?.errors).toEqual([
      'entries[0] 10.32.0.1 → 192.168.9.9: conflicts with strait-system/a-old (older), which maps 10.32.0.1 to 192.168.0.1',
    ]);
    const w = await until('event', () => h.warnings().find((e) => e.reason === 'ConflictingEntry'));
    expect(w.regarding.name).toBe('b-new');
    await h.admin.delete({ name: 'a-old', namespace: NS });
    await until('handed over', () => h.map4().get('10.32.0.1') === '192.168.9.9');
    await until('b clean', () => findNode(h.get('b-new'), 'gw-1')?.errors?.length === 0);
    expect(findNode(h.get('b-new'), 'gw-1')?.programmed).toBe(2);
  });

  it('restarts over an unchanged kernel and status with zero writes', async () => {
    const h = harness();
    await h.admin.create(natMapping('cluster-b', [entry(1), { externalIP: '10.99.0.1', realIP: '192.168.0.9' }]));
    const first = await h.start();
    await until('status', () => findNode(h.get('cluster-b'), 'gw-1')?.programmed === 1);
    await until('event', () => h.warnings().length === 1);
    await settle(h);
    await first.operator.stop();
    h.nodes.splice(0);
    const kernelWrites = h.net.writes;
    const applies = h.statusApplies.length;
    const rv = h.get('cluster-b')?.metadata.resourceVersion;
    const second = await h.start();
    await until('synced', () => second.operator.synced);
    await settle(h);
    expect(h.net.writes).toBe(kernelWrites);
    expect(h.statusApplies.length).toBe(applies);
    expect(h.get('cluster-b')?.metadata.resourceVersion).toBe(rv);
    expect(h.warnings()).toHaveLength(1); // already reported in status.nodes[].errors: not again
  });

  it('reports a failed apply in status and Ready, and recovers on retry', async () => {
    const h = harness();
    await h.admin.create(natMapping('cluster-b', [entry(1)]));
    await h.start();
    await until('programmed', () => findNode(h.get('cluster-b'), 'gw-1')?.programmed === 1);
    h.net.failNext('10.32.0.2', 'Error: Could not process rule: No buffer space available');
    const cur = h.get('cluster-b');
    if (!cur) throw new Error('missing');
    await h.admin.replace({ ...cur, spec: { ...cur.spec, entries: [entry(1), entry(2)] } });
    const failed = await until('failure reported', () => {
      const m = h.get('cluster-b');
      return findNode(m, 'gw-1')?.errors?.[0]?.startsWith('apply failed') ? m : undefined;
    });
    expect(findNode(failed, 'gw-1')?.programmed).toBe(1);
    expect(failed.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'NotProgrammed' });
    await until('recovered', () => findNode(h.get('cluster-b'), 'gw-1')?.programmed === 2);
    await until('ready', () => h.get('cluster-b')?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True');
    expect(findNode(h.get('cluster-b'), 'gw-1')?.errors).toEqual([]);
    expect(h.warnings().some((e) => e.reason === 'ApplyFailed' && e.note?.includes('No buffer space'))).toBe(true);
  });

  it('programs the namespace again when it was re-created', async () => {
    const h = harness();
    await h.admin.create(natMapping('cluster-b', [entry(1)]));
    const n = await h.start();
    await until('programmed', () => h.map4().size === 1);
    await h.net.netns.delete(GW);
    await h.net.netns.ensure(GW);
    h.nsId = 'ns-2';
    n.operator.verifyNow();
    await until('re-programmed', () => h.map4().size === 1);
    expect((await h.net.sysctl.get(GW, ['net/ipv4/ip_forward'])).get('net/ipv4/ip_forward')).toBe('1');
  });

  it('repairs an element changed behind its back at the periodic verification', async () => {
    const h = harness();
    await h.admin.create(natMapping('cluster-b', [entry(1), entry(2)]));
    const n = await h.start();
    await until('programmed', () => h.map4().size === 2);
    await h.net.nft.updateElements(GW, { family: 'inet', table: NAT_MAP_TABLE.name, name: 'ext4' }, { delete: ['10.32.0.2'] });
    n.operator.verifyNow();
    await until('repaired', () => h.map4().get('10.32.0.2') === '192.168.0.2');
  });

  it('two nodes each keep their own status entry and agree on the conditions', async () => {
    const h = harness();
    const net2 = new FakeNetwork();
    await h.admin.create(natMapping('cluster-b', [entry(1), entry(2)]));
    await h.start('gw-1');
    await h.start('gw-2', net2);
    await until('both nodes', () => (h.get('cluster-b')?.status?.nodes ?? []).filter((x) => x.programmed === 2).length === 2);
    await settle(h);
    const m = h.get('cluster-b');
    expect(m?.status?.nodes?.map((x) => x.node).sort()).toEqual(['gw-1', 'gw-2']);
    expect(m?.status?.conditions?.find((c) => c.type === 'Ready')?.message).toBe('2 valid entries programmed on 2 gateway node(s): gw-1, gw-2');
    expect(h.map4(net2).size).toBe(2);
  });
});

function findNode(m: NatMapping | undefined, node: string): NatMappingNodeStatus | undefined {
  return m?.status?.nodes?.find((n) => n.node === node);
}
