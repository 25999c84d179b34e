import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpAddresses } from './addresses.ts';
import { execRunner } from './exec.ts';
import { NetBatchError } from './ip-batch.ts';
import { IpLinks, type LinkSpec } from './links.ts';
import { mssClampTable } from './mss.ts';
import { IpNeighbours } from './neighbours.ts';
import { IpNetns } from './netns.ts';
import { NftTables, type NftTable, type NftTableSpec } from './nftables.ts';
import { RecordingRunner } from './recording-runner.ts';
import { IpRoutes, type RouteSpec } from './routes.ts';
import { IpRules, type RuleSpec } from './rules.ts';
import { ProcSysctl, confKey } from './sysctl.ts';

/**
 * Real kernel: two namespaces of this run (`st-<hex6>-a`, `-b`), a veth between them, addresses,
 * routes in a custom table, policy rules, sysctls, vxlan + fdb, an adopted tun, and an nftables
 * table with a 1000-element map. Foreign objects are created first and must survive.
 */

const RUN = `st-${randomBytes(3).toString('hex')}`;
const A = `${RUN}-a`;
const B = `${RUN}-b`;
const OWNER = 'netns-test';
const TABLE = 1000;

const real = execRunner();
const rec = new RecordingRunner(real);
const netns = new IpNetns(real);
const links = new IpLinks(rec);
const addrs = new IpAddresses(rec);
const routes = new IpRoutes(rec);
const rules = new IpRules(rec);
const sysctl = new ProcSysctl(rec);
const neigh = new IpNeighbours(rec);
const nft = new NftTables(rec);

const sh = (cmd: string, args: string[], ns?: string): Promise<string> =>
  real.run(cmd, args, ns ? { netns: ns } : {}).then((r) => r.stdout);

const LINKS_A: LinkSpec[] = [
  { name: 'st.a', kind: 'veth', mtu: 1400, peer: { name: 'st.b', netns: B } },
  { name: 'st-vx', kind: 'vxlan', mtu: 1350, vxlan: { vni: 4242, local: '10.99.0.1', dev: 'st.a', dstport: 4789 } },
  { name: 'st-br', kind: 'bridge' },
];
const LINKS_B: LinkSpec[] = [{ name: 'st.b', kind: 'veth', mtu: 1400, peer: { name: 'st.a', netns: A } }];
const ADDRS_A = [
  { dev: 'st.a', address: '10.99.0.1/30' },
  { dev: 'st-br', address: '10.98.0.1/24' },
];
const ROUTES_A: RouteSpec[] = [
  { dst: '10.10.0.0/16', via: '10.99.0.2', table: TABLE },
  { dst: '10.11.0.0/16', type: 'blackhole', table: TABLE },
  { dst: 'default', via: '10.99.0.2', dev: 'st.a', onlink: true, table: TABLE, mtu: 1380 },
  { dst: '10.12.0.0/16', dev: 'st.a', src: '10.99.0.1', table: TABLE, metric: 10 },
];
const RULES_A: RuleSpec[] = [
  { priority: 1000, from: '10.20.0.0/16', table: TABLE },
  { priority: 1001, fwmark: 0x10, fwmask: 0xff, iif: 'st.a', table: TABLE },
];
const SYSCTL_A = { 'net.ipv4.ip_forward': 1, [confKey(4, 'st.a', 'rp_filter')]: 2 };

function natTable(changed?: { index: number; to: string }): NftTableSpec {
  const elements: [string, string][] = [];
  for (let i = 0; i < 1000; i++) {
    elements.push([`10.50.${i >> 8}.${i & 255}`, changed?.index === i ? changed.to : `10.60.${i >> 8}.${i & 255}`]);
  }
  return {
    family: 'inet',
    name: 'strait',
    chains: [
      { name: 'pre', type: 'nat', hook: 'prerouting', priority: 'dstnat', rules: ['dnat ip to ip daddr map @ext_to_real'] },
      { name: 'post', type: 'nat', hook: 'postrouting', priority: 'srcnat', rules: ['ip saddr @remote oifname "st.a" masquerade'] },
    ],
    sets: [{ name: 'remote', type: 'ipv4_addr', flags: ['interval'], elements: ['10.200.0.0/16', '10.201.0.1'] }],
    maps: [{ name: 'ext_to_real', type: 'ipv4_addr', valueType: 'ipv4_addr', elements }],
  };
}

async function applyAll(): Promise<void> {
  await links.apply(A, LINKS_A, { owner: OWNER });
  await links.apply(B, LINKS_B, { owner: OWNER });
  await addrs.apply(A, ADDRS_A, { owner: OWNER });
  await addrs.apply(B, [{ dev: 'st.b', address: '10.99.0.2/30' }], { owner: OWNER });
  await routes.apply(A, ROUTES_A, { tables: [TABLE] });
  await rules.apply(A, RULES_A, { tables: [TABLE] });
  await sysctl.apply(A, SYSCTL_A);
  await neigh.applyFdb(A, [{ dev: 'st-vx', mac: '00:00:00:00:00:00', dst: '10.99.0.2' }], { owner: OWNER });
  await nft.apply(A, natTable());
  await nft.apply(A, mssClampTable({ interfaces: ['st.a', 'st-vx'] }));
}

function handles(t: NftTable | undefined): unknown {
  if (!t) return undefined;
  return {
    table: t.handle,
    chains: [...t.chains.values()].map((c) => [c.name, c.handle, c.ruleHandles]),
    sets: [...t.sets.values()].map((s) => [s.name, s.handle]),
  };
}

const canRun = process.getuid?.() === 0;

describe.skipIf(!canRun)('net ports on a real kernel', () => {
  beforeAll(async () => {
    await netns.ensure(A);
    await netns.ensure(B);
    // Foreign objects, created BEFORE Strait's, that must survive everything below.
    await sh('ip', ['link', 'add', 'for0', 'type', 'veth', 'peer', 'name', 'for1'], A);
    await sh('ip', ['link', 'set', 'for0', 'up'], A);
    await sh('ip', ['address', 'add', '10.77.0.1/24', 'dev', 'for0'], A);
    await sh('ip', ['route', 'add', '10.78.0.0/16', 'dev', 'for0', 'table', String(TABLE)], A);
    await sh('ip', ['route', 'add', '10.79.0.0/16', 'dev', 'for0'], A);
    await sh('ip', ['rule', 'add', 'from', '10.21.0.0/16', 'lookup', String(TABLE), 'priority', '1000'], A);
    await sh('nft', ['add table ip foreign_t ; add chain ip foreign_t c { type filter hook forward priority 0 ; } ; add rule ip foreign_t c counter'], A);
    await sh('ip', ['tuntap', 'add', 'mode', 'tun', 'st-tun'], A); // as a userspace daemon would
  });

  afterAll(async () => {
    try {
      await netns.delete(A);
      await netns.delete(B);
    } finally {
      const left = (await netns.list()).filter((n) => n.startsWith(RUN));
      expect(left).toEqual([]);
    }
  });

  it('applies the desired state', async () => {
    await applyAll();
    const a = await links.list(A);
    expect(a.find((l) => l.name === 'st.a')).toMatchObject({ kind: 'veth', owner: OWNER, mtu: 1400, up: true });
    expect(a.find((l) => l.name === 'st-vx')?.vxlan).toMatchObject({ vni: 4242, local: '10.99.0.1', dev: 'st.a', learning: false });
    expect(await links.get(B, 'st.b')).toMatchObject({ owner: OWNER, peerEnd: true, up: true, mtu: 1400 });
    // the second end lives with the first: an apply in B that does not list it leaves it alone
    expect((await links.apply(B, [], { owner: OWNER })).writes).toBe(0);
    expect((await routes.list(A, { tables: [TABLE] })).map((r) => r.dst).sort()).toEqual(['0.0.0.0/0', '10.10.0.0/16', '10.11.0.0/16', '10.12.0.0/16']);
    expect(await rules.list(A)).toHaveLength(2);
    expect([...(await sysctl.get(A, ['net.ipv4.ip_forward', confKey(4, 'st.a', 'rp_filter')])).values()]).toEqual(['1', '2']);
    expect((await nft.read(A, 'inet', 'strait'))?.sets.get('ext_to_real')?.elements.size).toBe(1000);
    expect(await sh('nft', ['list', 'chain', 'inet', 'strait_mss', 'clamp'], A)).toContain('tcp option maxseg size set rt mtu');
  });

  it('re-applying the same state writes nothing: ifindex and nft handles unchanged', async () => {
    const ifindexBefore = (await links.list(A)).map((l) => [l.name, l.ifindex]);
    const handlesBefore = handles(await nft.read(A, 'inet', 'strait'));
    rec.clear();
    await applyAll();
    expect(rec.writes.map((w) => w.line)).toEqual([]);
    expect(rec.commands.length).toBeGreaterThan(0);
    expect((await links.list(A)).map((l) => [l.name, l.ifindex])).toEqual(ifindexBefore);
    expect(handles(await nft.read(A, 'inet', 'strait'))).toEqual(handlesBefore);
  });

  it('changing one map element among 1000 is one delete + one add, handles unchanged', async () => {
    const before = handles(await nft.read(A, 'inet', 'strait'));
    rec.clear();
    const r = await nft.apply(A, natTable({ index: 500, to: '10.61.0.1' }));
    expect(rec.writes).toHaveLength(1);
    expect(rec.writes[0]?.input).toBe('delete element inet strait ext_to_real { 10.50.1.244 }\nadd element inet strait ext_to_real { 10.50.1.244 : 10.61.0.1 }\n');
    expect(r).toMatchObject({ elementsAdded: 1, elementsRemoved: 1, chainsRewritten: 0 });
    const after = await nft.read(A, 'inet', 'strait');
    expect(after?.sets.get('ext_to_real')?.elements.get('10.50.1.244')).toBe('10.61.0.1');
    expect(handles(after)).toEqual(before);
    // the same change through updateElements and through the remembered state: no read-back
    await nft.apply(A, natTable());
    rec.clear();
    await nft.updateElements(A, { family: 'inet', table: 'strait', name: 'ext_to_real' }, { add: [['10.50.1.244', '10.61.0.2']] });
    await nft.apply(A, natTable({ index: 500, to: '10.61.0.3' }), { trustLastApplied: true });
    expect(rec.commands.map((c) => c.line)).toEqual([`nft -f - (netns ${A})`, `nft -f - (netns ${A})`]);
    expect(rec.commands.map((c) => c.input?.split('\n').length)).toEqual([3, 3]);
    expect((await nft.read(A, 'inet', 'strait'))?.sets.get('ext_to_real')?.elements.get('10.50.1.244')).toBe('10.61.0.3');
    expect(handles(await nft.read(A, 'inet', 'strait'))).toEqual(before);
    await nft.apply(A, natTable());
  });

  it('changes apply as a diff: one route replaced, one removed, ifindex kept', async () => {
    rec.clear();
    const r = await routes.apply(A, [{ ...(ROUTES_A[0] as RouteSpec), via: '10.99.0.2', mtu: 1300 }, ...ROUTES_A.slice(1, 3)], { tables: [TABLE] });
    expect(r).toMatchObject({ added: 0, changed: 1, removed: 1, writes: 1 });
    expect(rec.writes[0]?.input).toBe(
      'route replace 10.10.0.0/16 via 10.99.0.2 table 1000 proto 201 metric 0 mtu 1300\nroute del 10.12.0.0/16 dev st.a table 1000 proto 201 metric 10\n',
    );
    await routes.apply(A, ROUTES_A, { tables: [TABLE] });
    const idx = (await links.get(A, 'st.a'))?.ifindex;
    await links.apply(A, LINKS_A.map((l) => (l.name === 'st.a' ? { ...l, mtu: 1380 } : l)), { owner: OWNER });
    expect(await links.get(A, 'st.a')).toMatchObject({ ifindex: idx, mtu: 1380 });
    await links.apply(A, LINKS_A, { owner: OWNER });
  });

  it('a failed route batch names command, netns and kernel message and leaves no partial state', async () => {
    const before = await routes.list(A);
    const bad: RouteSpec[] = [
      ...ROUTES_A,
      { dst: '10.13.0.0/16', via: '10.99.0.2', table: TABLE },
      { dst: '10.14.0.0/16', dev: 'st-nope', table: TABLE },
      { dst: '10.15.0.0/16', via: '10.99.0.2', table: TABLE },
    ];
    const err = await routes.apply(A, bad, { tables: [TABLE] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetBatchError);
    const e = err as NetBatchError;
    expect(e.message).toContain(`ip route add 10.14.0.0/16 dev st-nope table 1000 proto 201 metric 0 (netns ${A}): Cannot find device "st-nope"`);
    expect(e.message).toContain('command 2 of 3 in one batch; rolled back 1 applied command');
    expect(e.netns).toBe(A);
    expect(await routes.list(A)).toEqual(before);
  });

  it('a failed link batch rolls back created links; unknown references are refused before any write', async () => {
    const before = (await links.list(A)).map((l) => [l.name, l.ifindex]);
    rec.clear();
    const err = await links
      .apply(A, [...LINKS_A, { name: 'st-br2', kind: 'bridge' }, { name: 'st-vx2', kind: 'vxlan', mtu: 65000, vxlan: { vni: 7, dev: 'st.a' } }], { owner: OWNER })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetBatchError);
    expect((err as Error).message).toBe(
      `ip link set dev st-vx2 alias strait:${OWNER} mtu 65000 up (netns ${A}): RTNETLINK answers: Invalid argument (command 4 of 4 in one batch; rolled back 3 applied commands)`,
    );
    expect((await links.list(A)).map((l) => [l.name, l.ifindex])).toEqual(before);
    rec.clear();
    await expect(links.apply(A, [...LINKS_A, { name: 'st-vx3', kind: 'vxlan', vxlan: { vni: 8, dev: 'st-none' } }], { owner: OWNER })).rejects.toThrow(
      `links[3].vxlan.dev: st-none does not exist in netns ${A}`,
    );
    expect(rec.writes).toEqual([]);
  });

  it('a failed nft transaction changes nothing', async () => {
    const before = handles(await nft.read(A, 'inet', 'strait'));
    const spec = natTable({ index: 3, to: '10.61.0.3' });
    const broken: NftTableSpec = { ...spec, chains: [...spec.chains, { name: 'extra', rules: ['ip saddr @no_such_set accept'] }] };
    await expect(nft.apply(A, broken)).rejects.toThrow(new RegExp(`^nft -f - \\(netns ${A}\\): .*no_such_set`));
    const after = await nft.read(A, 'inet', 'strait');
    expect(handles(after)).toEqual(before);
    expect(after?.sets.get('ext_to_real')?.elements.get('10.50.0.3')).toBe('10.60.0.3');
  });

  it('adopts a daemon-created tun and releases it without deleting it', async () => {
    await links.apply(A, [...LINKS_A, { name: 'st-tun', kind: 'tun', mtu: 1420 }], { owner: OWNER });
    expect(await links.get(A, 'st-tun')).toMatchObject({ owner: OWNER, mtu: 1420, up: true });
    await links.apply(A, LINKS_A, { owner: OWNER });
    expect(await links.get(A, 'st-tun')).toMatchObject({ owner: undefined, alias: undefined });
  });

  it('cleanup removes everything Strait created and nothing else', async () => {
    await rules.deleteOwned(A, { tables: [TABLE] });
    await routes.deleteOwned(A, { tables: [TABLE] });
    await neigh.applyFdb(A, [], { owner: OWNER });
    await addrs.deleteOwned(A, { owner: OWNER });
    await links.deleteOwned(A, { owner: OWNER });
    await links.deleteOwned(B, { owner: OWNER });
    await nft.deleteTable(A, 'inet', 'strait');
    await nft.deleteTable(A, 'inet', 'strait_mss');

    expect(await routes.list(A)).toEqual([]);
    expect(await rules.list(A)).toEqual([]);
    expect((await links.list(A)).filter((l) => l.owner !== undefined)).toEqual([]);
    expect((await links.list(B)).map((l) => l.name)).toEqual(['lo']);
    expect((await nft.listTables(A)).map((t) => `${t.family} ${t.name}`)).toEqual(['ip foreign_t']);
    // foreign objects untouched
    expect(await sh('ip', ['route', 'show', 'table', String(TABLE)], A)).toContain('10.78.0.0/16 dev for0');
    expect(await sh('ip', ['route', 'show'], A)).toContain('10.79.0.0/16 dev for0');
    expect(await sh('ip', ['rule', 'show'], A)).toMatch(/1000:\s+from 10.21.0.0\/16 lookup 1000/);
    expect(await sh('ip', ['-br', 'address', 'show', 'for0'], A)).toContain('10.77.0.1/24');
    expect(await sh('nft', ['list', 'table', 'ip', 'foreign_t'], A)).toContain('counter');
    expect((await links.list(A)).map((l) => l.name).sort()).toEqual(['for0', 'for1', 'lo', 'st-tun']);
  });
});
