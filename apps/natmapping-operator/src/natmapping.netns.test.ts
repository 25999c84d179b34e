import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NatMappingResource, type NatMapping, type NatMappingNodeStatus } from '@strait/api';
import { CrClient, EventResource, NamespaceResource, type EventsV1Event, type KubeObject } from '@strait/kube';
import { execRunner, IpNetns } from '@strait/net';
import { NsProcess, TCP_UNIX_RELAY_SCRIPT, startControlPlane, until, type ControlPlane } from '@strait/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installNatMappingCrd } from './testing/install-crds.ts';

/**
 * natmapping-operator as a real process inside a simulated gateway node, against a real
 * kube-apiserver (a control plane of this test) and a real kernel:
 *
 *   remote ──"tunnel" veth── gateway netns ──strait.gateway/strait.host── node ──┬── pod
 *   10.20.0.5 (remote pod)   (inet strait_natmap)                                └── external host
 *
 * The operator runs in the node namespace (`ip netns exec <node>`), as a hostNetwork pod would, and
 * programs the gateway namespace. External CIDR 10.32.0.0/16: 10.32.0.10 → the pod (10.1.0.10),
 * 10.32.0.20 → the external host (172.31.0.20). Each target runs a TCP server that answers with its
 * own name and the source it saw. Every namespace and process of the test is removed in afterAll.
 */

const RUN = `st-${randomBytes(3).toString('hex')}`;
const NODE = `${RUN}-node`;
const GW = `${RUN}-gw`;
const POD = `${RUN}-pod`;
const EXT = `${RUN}-ext`;
const REMOTE = `${RUN}-remote`;
const ALL_NS = [NODE, GW, POD, EXT, REMOTE];
const K8S_NS = `natmap-${RUN}`;
const NODE_NAME = 'gw-1';
const PORT = 7000;

const runner = execRunner();
const netns = new IpNetns(runner);
const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`./testing/${name}`, import.meta.url));

async function sh(ns: string | undefined, cmd: string, ...args: string[]): Promise<string> {
  return (await runner.run(cmd, args, ns ? { netns: ns } : {})).stdout;
}

const ip = (ns: string, ...args: string[]): Promise<string> => sh(undefined, 'ip', '-n', ns, ...args);

let cp: ControlPlane | undefined;
let relayServer: Server | undefined;
let workdir = '';
const processes: NsProcess[] = [];
let operator: NsProcess | undefined;
let mappings: CrClient<NatMapping>;
let events: CrClient<EventsV1Event>;
let kubeconfigPath = '';

function startOperator(): NsProcess {
  const p = new NsProcess(NODE, [
    process.execPath,
    main,
    `--kubeconfig=${kubeconfigPath}`,
    '--cluster-id=natmap-test',
    `--node-name=${NODE_NAME}`,
    `--netns-name=${GW}`,
    `--namespace=${K8S_NS}`,
    '--probe-addr=127.0.0.1:9103',
  ]);
  processes.push(p);
  return p;
}

async function ask(ext: string): Promise<string> {
  return (await sh(REMOTE, process.execPath, fixture('tcp-ask.ts'), ext, String(PORT))).trim();
}

function natMapping(name: string, spec: NatMapping['spec']): NatMapping {
  return { apiVersion: 'net.strait.io/v1alpha1', kind: 'NatMapping', metadata: { name, namespace: K8S_NS }, spec };
}

async function nodeStatus(name: string, node = NODE_NAME): Promise<NatMappingNodeStatus | undefined> {
  return (await mappings.get({ name, namespace: K8S_NS }))?.status?.nodes?.find((n) => n.node === node);
}

async function natTable(): Promise<{ handles: unknown[]; ext4: Map<string, string> }> {
  const j = JSON.parse(await sh(GW, 'nft', '-a', '-j', 'list', 'table', 'inet', 'strait_natmap')) as { nftables: Record<string, { name?: string; handle?: number; elem?: unknown[] }>[] };
  const handles: unknown[] = [];
  const ext4 = new Map<string, string>();
  for (const item of j.nftables) {
    for (const [kind, o] of Object.entries(item)) {
      if (kind === 'metainfo') continue;
      handles.push([kind, o.name ?? '', o.handle]);
      if (kind === 'map' && o.name === 'ext4') for (const e of o.elem ?? []) ext4.set(String((e as unknown[])[0]), String((e as unknown[])[1]));
    }
  }
  return { handles, ext4 };
}

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('natmapping-operator in a gateway node (real kernel, real API server)', () => {
  beforeAll(async () => {
    // --- namespaces and links (as tunnel-operator would leave the gateway: netns + veth)
    for (const ns of ALL_NS) await netns.ensure(ns);
    for (const ns of ALL_NS) await ip(ns, 'link', 'set', 'lo', 'up');
    await ip(NODE, 'link', 'add', 'strait.host', 'type', 'veth', 'peer', 'name', 'strait.gateway', 'netns', GW);
    await ip(NODE, 'link', 'add', 'vpod', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', POD);
    await ip(NODE, 'link', 'add', 'vext', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', EXT);
    await ip(GW, 'link', 'add', 'tun0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', REMOTE); // stands in for the tunnel
    const addr = async (ns: string, dev: string, a: string): Promise<void> => {
      await ip(ns, 'addr', 'add', a, 'dev', dev);
      await ip(ns, 'link', 'set', dev, 'up');
    };
    await addr(NODE, 'strait.host', '10.255.0.1/30');
    await addr(GW, 'strait.gateway', '10.255.0.2/30');
    await addr(NODE, 'vpod', '10.1.0.1/24');
    await addr(POD, 'eth0', '10.1.0.10/24');
    await addr(NODE, 'vext', '172.31.0.1/24');
    await addr(EXT, 'eth0', '172.31.0.20/24');
    await addr(GW, 'tun0', '10.254.0.1/30');
    await addr(REMOTE, 'eth0', '10.254.0.2/30');
    await ip(REMOTE, 'addr', 'add', '10.20.0.5/32', 'dev', 'lo'); // the remote pod
    await ip(REMOTE, 'route', 'add', '10.32.0.0/16', 'via', '10.254.0.1', 'src', '10.20.0.5');
    await ip(GW, 'route', 'add', '10.20.0.0/16', 'via', '10.254.0.2');
    await ip(GW, 'route', 'add', 'default', 'via', '10.255.0.1');
    await ip(NODE, 'route', 'add', '10.20.0.0/16', 'via', '10.255.0.2');
    await ip(POD, 'route', 'add', 'default', 'via', '10.1.0.1');
    await ip(EXT, 'route', 'add', '10.20.0.0/16', 'via', '172.31.0.1');
    await sh(NODE, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');
    // IPv6 beside IPv4 (nodad: usable at once)
    const addr6 = (ns: string, dev: string, a: string): Promise<string> => ip(ns, '-6', 'addr', 'add', a, 'dev', dev, 'nodad');
    await addr6(NODE, 'strait.host', 'fd00:255::1/64');
    await addr6(GW, 'strait.gateway', 'fd00:255::2/64');
    await addr6(NODE, 'vpod', 'fd00:1::1/64');
    await addr6(POD, 'eth0', 'fd00:1::10/64');
    await addr6(GW, 'tun0', 'fd00:254::1/64');
    await addr6(REMOTE, 'eth0', 'fd00:254::2/64');
    await addr6(REMOTE, 'lo', 'fd00:20::5/128');
    await ip(REMOTE, '-6', 'route', 'add', 'fd00:32::/64', 'via', 'fd00:254::1', 'src', 'fd00:20::5');
    await ip(GW, '-6', 'route', 'add', 'fd00:20::/56', 'via', 'fd00:254::2');
    await ip(GW, '-6', 'route', 'add', 'default', 'via', 'fd00:255::1');
    await ip(NODE, '-6', 'route', 'add', 'fd00:20::/56', 'via', 'fd00:255::2');
    await ip(POD, '-6', 'route', 'add', 'default', 'via', 'fd00:1::1');
    // Someone else's table in the gateway namespace: must never be touched.
    await runner.run('nft', ['-f', '-'], { netns: GW, input: 'add table inet foreign_test\nadd chain inet foreign_test c { type filter hook input priority 0 ; }\nadd rule inet foreign_test c counter\n' });

    // --- targets
    for (const [ns, name] of [
      [POD, 'pod'],
      [EXT, 'ext'],
    ] as const) {
      const p = new NsProcess(ns, [process.execPath, fixture('identity-server.ts'), name, String(PORT)]);
      processes.push(p);
      await p.waitFor(/ready/, 30_000);
    }

    // --- control plane, reachable from the node namespace through a relay
    cp = await startControlPlane({ clusters: 1, nats: false });
    const cluster = cp.clusters[0];
    if (!cluster) throw new Error('no cluster');
    kubeconfigPath = cluster.kubeconfigPath;
    const kc = cluster.kubeConfig();
    await installNatMappingCrd(kc, K8S_NS);
    await new CrClient<KubeObject>(kc, NamespaceResource).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: K8S_NS } });
    mappings = new CrClient<NatMapping>(kc, NatMappingResource, { fieldManager: 'strait-test' });
    events = new CrClient<EventsV1Event>(kc, EventResource);
    const apiPort = new URL(cluster.server).port;
    workdir = mkdtempSync(join(tmpdir(), 'strait-natmap-'));
    const sock = join(workdir, 'api.sock');
    relayServer = createServer((c) => {
      const u = connect(Number(apiPort), '127.0.0.1');
      c.pipe(u);
      u.pipe(c);
      c.on('error', () => u.destroy());
      u.on('error', () => c.destroy());
    });
    await new Promise<void>((resolve) => relayServer?.listen(sock, resolve));
    const relay = new NsProcess(NODE, [process.execPath, TCP_UNIX_RELAY_SCRIPT, `127.0.0.1:${apiPort}`, sock]);
    processes.push(relay);
    await relay.waitFor(/ready/, 30_000);

    operator = startOperator();
    await operator.waitFor(/"msg":"started"/, 30_000);
  }, 180_000);

  afterAll(async () => {
    for (const p of processes.splice(0).reverse()) await p.stop('SIGTERM', 5000).catch(() => undefined);
    relayServer?.close();
    await cp?.stop();
    for (const ns of ALL_NS) await netns.delete(ns).catch(() => undefined);
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  }, 120_000);

  it('adopts the gateway namespace, turns forwarding on and creates only its own table', async () => {
    await operator?.waitFor(/"msg":"NAT table updated"/, 30_000);
    expect((await sh(GW, 'sysctl', '-n', 'net.ipv4.ip_forward')).trim()).toBe('1');
    expect(await sh(GW, 'nft', 'list', 'tables')).toBe('table inet foreign_test\ntable inet strait_natmap\n');
    expect((await sh(NODE, 'nft', 'list', 'tables')).trim()).toBe('');
  });

  it('translates each external IP to its target; an invalid entry is reported and does not stop the others', async () => {
    await mappings.create(
      natMapping('cluster-b', {
        clusterID: 'cluster-b',
        podCIDR: '10.20.0.0/16',
        externalCIDR: '10.32.0.0/16',
        entries: [
          { externalIP: '10.32.0.10', realIP: '10.1.0.10', description: 'a pod of this cluster' },
          { externalIP: '10.32.0.20', realIP: '172.31.0.20', description: 'an external host' },
          { externalIP: '10.32.0.30', realIP: 'fd00::30', description: 'invalid: another family' },
        ],
      }),
    );
    const status = await until('status of gw-1', async () => {
      const s = await nodeStatus('cluster-b');
      return s?.programmed === 2 ? s : undefined;
    });
    expect(status).toMatchObject({ observedGeneration: 1, errors: ['entries[2] 10.32.0.30 → fd00::30: realIP is IPv6 but externalIP is IPv4'] });
    expect(status.lastApplied).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(await ask('10.32.0.10')).toBe('pod saw 10.20.0.5');
    expect(await ask('10.32.0.20')).toBe('ext saw 10.20.0.5');
    const obj = await mappings.get({ name: 'cluster-b', namespace: K8S_NS });
    expect(obj?.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'Programmed'],
      ['Valid', 'False', 'InvalidEntries'],
    ]);
    const warning = await until('Warning event', async () =>
      (await events.list({ namespace: K8S_NS })).items.find((e) => e.type === 'Warning' && e.regarding.name === 'cluster-b'),
    );
    expect(warning).toMatchObject({ reason: 'InvalidEntry', reportingController: 'net.strait.io/natmapping-operator', reportingInstance: NODE_NAME });
    expect(warning.note).toContain('entries[2] 10.32.0.30 → fd00::30');
  });

  it('translates IPv6 entries the same way', async () => {
    await mappings.create(
      natMapping('cluster-b-v6', {
        clusterID: 'cluster-b',
        podCIDR: 'fd00:20::/56',
        externalCIDR: 'fd00:32::/64',
        entries: [{ externalIP: 'fd00:32::10', realIP: 'fd00:1::10' }],
      }),
    );
    await until('IPv6 entry programmed', async () => ((await nodeStatus('cluster-b-v6'))?.programmed === 1 ? true : undefined));
    expect((await sh(GW, 'sysctl', '-n', 'net.ipv6.conf.all.forwarding')).trim()).toBe('1');
    expect(await ask('fd00:32::10')).toBe('pod saw fd00:20::5');
  });

  it('a newer mapping conflicting on an externalIP is reported; the older one keeps it; its valid entry works', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // a later creationTimestamp (seconds)
    await mappings.create(
      natMapping('cluster-c', {
        clusterID: 'cluster-c',
        podCIDR: '10.21.0.0/16',
        externalCIDR: '10.32.0.0/24', // overlaps cluster-b's
        entries: [
          { externalIP: '10.32.0.10', realIP: '172.31.0.20' },
          { externalIP: '10.32.0.11', realIP: '10.1.0.10' },
        ],
      }),
    );
    const s = await until('status of cluster-c', async () => {
      const n = await nodeStatus('cluster-c');
      return n?.programmed === 1 ? n : undefined;
    });
    expect(s.errors).toEqual([`entries[0] 10.32.0.10 → 172.31.0.20: conflicts with ${K8S_NS}/cluster-b (older), which maps 10.32.0.10 to 10.1.0.10`]);
    expect(await ask('10.32.0.10')).toBe('pod saw 10.20.0.5');
    expect(await ask('10.32.0.11')).toBe('pod saw 10.20.0.5');
    await until('ConflictingEntry event', async () =>
      (await events.list({ namespace: K8S_NS })).items.find((e) => e.reason === 'ConflictingEntry' && e.regarding.name === 'cluster-c'),
    );
  });

  it("keeps other nodes' status entries (server-side apply per node) and changes one entry with one element transaction", async () => {
    // A second gateway node reports through its own field manager.
    await mappings.applyStatus(
      {
        apiVersion: 'net.strait.io/v1alpha1',
        kind: 'NatMapping',
        metadata: { name: 'cluster-b', namespace: K8S_NS },
        status: { nodes: [{ node: 'gw-2', programmed: 2, errors: [], observedGeneration: 1, lastApplied: '2025-01-01T00:00:00Z' }] },
      },
      { fieldManager: 'natmapping-operator/gw-2' },
    );
    const before = operator?.out.length ?? 0;
    const cur = await mappings.get({ name: 'cluster-b', namespace: K8S_NS });
    if (!cur) throw new Error('cluster-b is gone');
    // A merge patch of the spec (no resourceVersion): the operators write status concurrently.
    const ref = { name: 'cluster-b', namespace: K8S_NS };
    await mappings.patch(ref, { spec: { entries: cur.spec.entries.map((e) => (e.externalIP === '10.32.0.20' ? { ...e, realIP: '10.1.0.10' } : e)) } });
    await until('changed translation', async () => ((await ask('10.32.0.20')) === 'pod saw 10.20.0.5' ? true : undefined));
    const s = await until('gw-1 at generation 2', async () => {
      const n = await nodeStatus('cluster-b');
      return n?.observedGeneration === 2 ? n : undefined;
    });
    expect(s.programmed).toBe(2);
    expect(await nodeStatus('cluster-b', 'gw-2')).toMatchObject({ programmed: 2, observedGeneration: 1 });
    const log = (operator?.out ?? '').slice(before);
    expect(log).toMatch(/"kind":"elements","transactions":1,"added":1,"removed":1/);
    // Back to the external host for the next tests.
    await mappings.patch(ref, { spec: { entries: cur.spec.entries } });
    await until('translation restored', async () => ((await ask('10.32.0.20')) === 'ext saw 10.20.0.5' ? true : undefined));
  });

  it('restarts while traffic flows: no packet lost, nft handles unchanged, nothing written', async () => {
    await until('status settled', async () => ((await nodeStatus('cluster-b'))?.observedGeneration === 3 ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    const before = await natTable();
    const rvB = (await mappings.get({ name: 'cluster-b', namespace: K8S_NS }))?.metadata.resourceVersion;
    const rvC = (await mappings.get({ name: 'cluster-c', namespace: K8S_NS }))?.metadata.resourceVersion;
    // 100 pings per second for ~4 s across the restart.
    const ping = new NsProcess(REMOTE, ['ping', '-n', '-q', '-i', '0.01', '-c', '400', '-W', '1', '10.32.0.20']);
    processes.push(ping);
    await new Promise((r) => setTimeout(r, 500));
    const old = operator;
    expect(await old?.stop('SIGTERM', 10_000)).toBe(0);
    operator = startOperator();
    await operator.waitFor(/"msg":"NAT table already up to date"/, 30_000);
    expect(await ping.exited).toBe(0);
    const m = /(\d+) packets transmitted, (\d+) received/.exec(ping.out);
    expect(m?.[1]).toBe('400');
    expect(m?.[2]).toBe('400');
    await new Promise((r) => setTimeout(r, 1000));
    const after = await natTable();
    expect(after.handles).toEqual(before.handles);
    expect([...after.ext4]).toEqual([...before.ext4]);
    expect(operator.out).not.toMatch(/"msg":"NAT table updated"/);
    expect((await mappings.get({ name: 'cluster-b', namespace: K8S_NS }))?.metadata.resourceVersion).toBe(rvB);
    expect((await mappings.get({ name: 'cluster-c', namespace: K8S_NS }))?.metadata.resourceVersion).toBe(rvC);
  });

  it('deleting a NatMapping removes exactly its elements; the foreign table is untouched', async () => {
    const foreign = await sh(GW, 'nft', '-a', '-j', 'list', 'table', 'inet', 'foreign_test');
    await mappings.delete({ name: 'cluster-c', namespace: K8S_NS });
    await until('10.32.0.11 gone', async () => ((await natTable()).ext4.has('10.32.0.11') ? undefined : true));
    expect([...(await natTable()).ext4]).toEqual([
      ['10.32.0.10', '10.1.0.10'],
      ['10.32.0.20', '172.31.0.20'],
    ]);
    expect(await ask('10.32.0.10')).toBe('pod saw 10.20.0.5');
    await expect(ask('10.32.0.11')).rejects.toThrow();
    await mappings.delete({ name: 'cluster-b', namespace: K8S_NS });
    await until('map empty', async () => ((await natTable()).ext4.size === 0 ? true : undefined));
    expect(await ask('fd00:32::10')).toBe('pod saw fd00:20::5'); // the IPv6 mapping is not touched
    await mappings.delete({ name: 'cluster-b-v6', namespace: K8S_NS });
    await until('IPv6 map empty', async () => ((await sh(GW, 'nft', 'list', 'map', 'inet', 'strait_natmap', 'ext6')).includes('fd00:32::10') ? undefined : true));
    expect(await sh(GW, 'nft', '-a', '-j', 'list', 'table', 'inet', 'foreign_test')).toBe(foreign);
    expect(await sh(GW, 'nft', 'list', 'tables')).toBe('table inet foreign_test\ntable inet strait_natmap\n');
  });

  it('stops on SIGTERM leaving the kernel state in place', async () => {
    const before = await natTable();
    expect(await operator?.stop('SIGTERM', 10_000)).toBe(0);
    expect((await natTable()).handles).toEqual(before.handles);
    expect(await netns.exists(GW)).toBe(true);
  });
});
