import { HOST } from './apply-report.ts';
import { describe, expect, it } from 'vitest';
import { FakeNetwork } from './fake/fake-network.ts';
import { NftTables, normalizeTable, parseTable, planTable, ruleTag, type NftChainSpec, type NftTableSpec } from './nftables.ts';
import { RecordingRunner } from './recording-runner.ts';

function natTable(entries: number, changed?: { index: number; to: string }): NftTableSpec {
  const elements: [string, string][] = [];
  for (let i = 0; i < entries; i++) {
    const v = changed?.index === i ? changed.to : `192.168.${(i >> 8) & 255}.${i & 255}`;
    elements.push([`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, v]);
  }
  return {
    family: 'inet',
    name: 'strait',
    chains: [
      { name: 'pre', type: 'nat', hook: 'prerouting', priority: 'dstnat', rules: ['dnat ip to ip daddr map @ext_to_real'] },
      { name: 'post', type: 'nat', hook: 'postrouting', priority: 'srcnat', rules: ['ip saddr @remote_pods oifname "strait.gw" masquerade'] },
    ],
    sets: [{ name: 'remote_pods', type: 'ipv4_addr', flags: ['interval'], elements: ['10.200.0.0/16', '10.201.0.0-10.201.255.255'] }],
    maps: [{ name: 'ext_to_real', type: 'ipv4_addr', valueType: 'ipv4_addr', elements }],
  };
}

describe('nftables planning and rendering', () => {
  it('renders a new table as one transaction (golden)', () => {
    const plan = planTable(undefined, normalizeTable(natTable(2)));
    expect(plan.script).toBe(
      [
        'add table inet strait',
        'add set inet strait remote_pods { type ipv4_addr ; flags interval ; }',
        'add map inet strait ext_to_real { type ipv4_addr : ipv4_addr ; }',
        'add chain inet strait pre { type nat hook prerouting priority -100 ; policy accept ; }',
        'add chain inet strait post { type nat hook postrouting priority 100 ; policy accept ; }',
        'add element inet strait remote_pods { 10.200.0.0/16, 10.201.0.0/16 }',
        'add element inet strait ext_to_real { 10.0.0.0 : 192.168.0.0, 10.0.0.1 : 192.168.0.1 }',
        `add rule inet strait pre dnat ip to ip daddr map @ext_to_real comment "${ruleTag('dnat ip to ip daddr map @ext_to_real')}"`,
        `add rule inet strait post ip saddr @remote_pods oifname "strait.gw" masquerade comment "${ruleTag('ip saddr @remote_pods oifname "strait.gw" masquerade')}"`,
        '',
      ].join('\n'),
    );
  });

  it('the same desired state plans nothing; one element change at 10 000 is one delete + one add', () => {
    const big = normalizeTable(natTable(10_000));
    expect(planTable(big, big).script).toBe('');
    const changed = normalizeTable(natTable(10_000, { index: 4321, to: '172.16.0.1' }));
    const plan = planTable(big, changed);
    expect(plan.script).toBe('delete element inet strait ext_to_real { 10.0.16.225 }\nadd element inet strait ext_to_real { 10.0.16.225 : 172.16.0.1 }\n');
    expect(plan).toMatchObject({ elementsAdded: 1, elementsRemoved: 1, chainsRewritten: 0 });
    const grown = normalizeTable({ ...natTable(10_000), maps: [{ name: 'ext_to_real', type: 'ipv4_addr', valueType: 'ipv4_addr', elements: [...((natTable(10_000).maps ?? [])[0]?.elements ?? []), ['10.99.0.1', '192.168.99.1']] }] });
    expect(planTable(big, grown).script).toBe('add element inet strait ext_to_real { 10.99.0.1 : 192.168.99.1 }\n');
  });

  it('rewrites only the chain whose rules changed', () => {
    const a = normalizeTable(natTable(1));
    const spec = natTable(1);
    const b = normalizeTable({ ...spec, chains: [(spec.chains[0] as NftChainSpec), { ...(spec.chains[1] as NftChainSpec), rules: ['oifname "strait.gw" masquerade'] }] });
    expect(planTable(a, b).script).toBe(
      `flush chain inet strait post\nadd rule inet strait post oifname "strait.gw" masquerade comment "${ruleTag('oifname "strait.gw" masquerade')}"\n`,
    );
    // a policy change updates the chain in place
    const c = normalizeTable({ ...spec, chains: [{ ...(spec.chains[0] as NftChainSpec), policy: 'drop' }, (spec.chains[1] as NftChainSpec)] });
    expect(planTable(a, c).script).toBe('add chain inet strait pre { type nat hook prerouting priority -100 ; policy drop ; }\n');
  });

  it('a removed set forces all chains to be rewritten before it is deleted', () => {
    const a = normalizeTable(natTable(1));
    const spec = natTable(1);
    const b = normalizeTable({ ...spec, sets: [], chains: [(spec.chains[0] as NftChainSpec), { ...(spec.chains[1] as NftChainSpec), rules: [] }] });
    expect(planTable(a, b).script.split('\n')).toEqual([
      'flush chain inet strait pre',
      'flush chain inet strait post',
      'delete set inet strait remote_pods',
      `add rule inet strait pre dnat ip to ip daddr map @ext_to_real comment "${ruleTag('dnat ip to ip daddr map @ext_to_real')}"`,
      '',
    ]);
  });

  it('validates desired state', () => {
    const t = natTable(1);
    expect(() => normalizeTable({ ...t, name: 'filter' })).toThrow('nftables table "filter" is not Strait\'s');
    expect(() => normalizeTable({ ...t, chains: [{ name: 'map', rules: [] }] })).toThrow('table.chains[0].name: "map" is an nft keyword');
    expect(() => normalizeTable({ ...t, chains: [{ name: 'x', rules: ['accept; delete table ip filter'] }] })).toThrow('table.chains[0].rules[0]: must be one statement');
    expect(() => normalizeTable({ ...t, chains: [{ name: 'x', rules: ['accept comment "x"'] }] })).toThrow('must not carry a comment');
    expect(() => normalizeTable({ ...t, chains: [{ name: 'x', type: 'nat', rules: [] }] })).toThrow('a base chain needs type, hook and priority');
    expect(() => normalizeTable({ ...t, maps: [{ name: 'm', type: 'ipv4_addr', valueType: 'ipv4_addr', elements: [['10.0.0.1', '10.0.0.300']] }] })).toThrow(
      'table.maps[0].elements[0][1]: "10.0.0.300" is not an IPv4 address',
    );
    expect(() => normalizeTable({ ...t, sets: [{ name: 's', type: 'ipv4_addr', elements: ['10.0.0.0/8'] }] })).toThrow('prefixes need flags interval');
    expect(() => normalizeTable({ ...t, sets: [{ name: 's', type: ['ipv4_addr', 'inet_service'], elements: [['10.0.0.1']] }] })).toThrow('has 1 part(s)');
    expect(() => normalizeTable({ ...t, maps: [{ name: 'm', type: 'ipv4_addr', valueType: 'ipv4_addr', elements: [['10.0.0.1', '1.1.1.1'], ['10.0.0.1', '1.1.1.2']] }] })).toThrow(
      'key 10.0.0.1 is listed twice',
    );
  });
});

const LISTED = {
  nftables: [
    { metainfo: { version: '1.0.6', json_schema_version: 1 } },
    { table: { family: 'inet', name: 'strait', handle: 19 } },
    { map: { family: 'inet', name: 'ext_to_real', table: 'strait', type: 'ipv4_addr', handle: 4, map: 'ipv4_addr', elem: [['10.0.0.1', '192.168.0.1']] } },
    { set: { family: 'inet', name: 'nets', table: 'strait', type: 'ipv4_addr', handle: 5, flags: ['interval'], elem: [{ prefix: { addr: '10.0.0.0', len: 8 } }, { range: ['172.16.0.1', '172.16.0.9'] }, '192.168.1.1'] } },
    { map: { family: 'inet', name: 'vm', table: 'strait', type: ['ipv4_addr', 'inet_service'], handle: 6, map: 'verdict', elem: [[{ concat: ['10.0.0.1', 80] }, { accept: null }], [{ concat: ['10.0.0.2', 443] }, { jump: { target: 'reg_x' } }]] } },
    { set: { family: 'inet', name: 'protos', table: 'strait', type: 'inet_proto', handle: 7, elem: ['tcp', 'udp', 200] } },
    { chain: { family: 'inet', table: 'strait', name: 'pre', handle: 1, type: 'nat', hook: 'prerouting', prio: -100, policy: 'accept' } },
    { chain: { family: 'inet', table: 'strait', name: 'reg_x', handle: 3 } },
    { rule: { family: 'inet', table: 'strait', chain: 'pre', handle: 8, comment: ruleTag('dnat ip to ip daddr map @ext_to_real'), expr: [] } },
  ],
};

describe('nftables reading', () => {
  it('parses nft -j list table into canonical elements', () => {
    const t = parseTable(LISTED, 'inet', 'strait', 'nft -j list table inet strait', 'gw');
    expect([...t.sets.get('nets')?.elements.keys() ?? []]).toEqual(['10.0.0.0/8', '172.16.0.1-172.16.0.9', '192.168.1.1']);
    expect([...(t.sets.get('vm')?.elements ?? [])]).toEqual([['10.0.0.1 . 80', 'accept'], ['10.0.0.2 . 443', 'jump reg_x']]);
    expect([...t.sets.get('protos')?.elements.keys() ?? []]).toEqual(['6', '17', '200']);
    expect(t.chains.get('pre')).toMatchObject({ handle: 1, priority: -100, ruleHandles: [8] });
    // what was read equals the same desired state: nothing to do
    const want = normalizeTable({
      family: 'inet',
      name: 'strait',
      chains: [{ name: 'pre', type: 'nat', hook: 'prerouting', priority: -100, rules: ['dnat ip to ip daddr map @ext_to_real'] }, { name: 'reg_x', rules: [] }],
      sets: [{ name: 'nets', type: 'ipv4_addr', flags: ['interval'], elements: ['10.0.0.0/8', '172.16.0.1-172.16.0.9', '192.168.1.1/32'] }, { name: 'protos', type: 'inet_proto', elements: ['tcp', 17, 200] }],
      maps: [
        { name: 'ext_to_real', type: 'ipv4_addr', valueType: 'ipv4_addr', elements: new Map([['10.0.0.1', '192.168.0.1']]) },
        { name: 'vm', type: ['ipv4_addr', 'inet_service'], valueType: 'verdict', elements: [[['10.0.0.1', 80], 'accept'], [['10.0.0.2', '443'], 'jump reg_x']] },
      ],
    });
    expect(planTable(t, want).script).toBe('');
  });

  it('rejects malformed output naming the command and the field', () => {
    expect(() => parseTable({ nftables: [{ set: { name: 's', type: 'ipv4_addr', elem: [{ weird: 1 }] } }] }, 'inet', 'strait', 'nft -j list table inet strait', 'gw')).toThrow(
      'nft -j list table inet strait (netns gw): unexpected output: .nftables[0].set.elem holds an element Strait cannot read',
    );
    expect(() => parseTable({}, 'inet', 'strait', 'nft -j list table inet strait', undefined)).toThrow('.nftables is missing, expected an array');
  });

  it('real port: absent table → full script; same state → zero writes; deleteTable refuses foreign names', async () => {
    const rec = new RecordingRunner((_c, args) =>
      args.includes('list') ? (args.includes('tables') ? '{"nftables":[]}' : { fail: 'Error: No such file or directory\nlist table inet strait', exitCode: 1 }) : '',
    );
    const nft = new NftTables(rec);
    const r = await nft.apply('gw', natTable(3));
    expect(r).toMatchObject({ changed: true, writes: 1, elementsAdded: 5 });
    expect(rec.writes.map((w) => w.line)).toEqual(['nft -f - (netns gw)']);
    expect(rec.writes[0]?.input?.startsWith('add table inet strait\n')).toBe(true);
    await expect(nft.deleteTable('gw', 'ip', 'filter')).rejects.toThrow('nftables table "filter" is not Strait\'s');
    await expect(nft.read('gw', 'ip', 'nat')).rejects.toThrow('is not Strait\'s');
    expect((await nft.deleteTable('gw', 'inet', 'strait')).writes).toBe(0);
    const same = new RecordingRunner((_c, args) => (args.includes('list') ? JSON.stringify(LISTED) : ''));
    await new NftTables(same).apply('gw', {
      family: 'inet',
      name: 'strait',
      chains: [{ name: 'pre', type: 'nat', hook: 'prerouting', priority: 'dstnat', rules: ['dnat ip to ip daddr map @ext_to_real'] }, { name: 'reg_x', rules: [] }],
      sets: [{ name: 'nets', type: 'ipv4_addr', flags: ['interval'], elements: ['10.0.0.0/8', '172.16.0.1-172.16.0.9', '192.168.1.1'] }, { name: 'protos', type: 'inet_proto', elements: ['tcp', 'udp', 200] }],
      maps: [
        { name: 'ext_to_real', type: 'ipv4_addr', valueType: 'ipv4_addr', elements: [['10.0.0.1', '192.168.0.1']] },
        { name: 'vm', type: ['ipv4_addr', 'inet_service'], valueType: 'verdict', elements: [[['10.0.0.1', 80], 'accept'], [['10.0.0.2', 443], 'jump reg_x']] },
      ],
    });
    expect(same.writes).toHaveLength(0);
  });

  it('fake: handles kept on re-apply, one element change is O(1), foreign tables invisible', async () => {
    const net = new FakeNetwork();
    net.nft.seedForeign(HOST, 'ip', 'filter');
    await net.nft.apply(HOST, natTable(1000));
    const before = await net.nft.read(HOST, 'inet', 'strait');
    expect((await net.nft.apply(HOST, natTable(1000))).writes).toBe(0);
    const r = await net.nft.apply(HOST, natTable(1000, { index: 7, to: '172.16.0.7' }));
    expect(r.script.trim().split('\n')).toHaveLength(2);
    const after = await net.nft.read(HOST, 'inet', 'strait');
    expect(after?.chains.get('pre')?.ruleHandles).toEqual(before?.chains.get('pre')?.ruleHandles);
    expect(after?.sets.get('ext_to_real')?.handle).toBe(before?.sets.get('ext_to_real')?.handle);
    await net.nft.deleteTable(HOST, 'inet', 'strait');
    expect(await net.nft.listTables(HOST)).toEqual([{ family: 'ip', name: 'filter' }]);
  });
});

describe('nftables incremental paths', () => {
  it('trustLastApplied skips the read; a stale memory is repaired by one re-read and retry', async () => {
    let listed = 0;
    let failNextWrite = false;
    const rec = new RecordingRunner((_c, args, opts) => {
      if (args.includes('list')) {
        listed++;
        return { fail: 'Error: No such file or directory', exitCode: 1 };
      }
      if (failNextWrite && opts.input?.startsWith('delete element')) {
        failNextWrite = false;
        return { fail: 'Error: Could not process rule: No such file or directory', exitCode: 1 };
      }
      return '';
    });
    const nft = new NftTables(rec);
    await nft.apply('gw', natTable(100));
    expect(listed).toBe(1);
    rec.clear();
    const r = await nft.apply('gw', natTable(100, { index: 5, to: '172.16.0.5' }), { trustLastApplied: true });
    expect(listed).toBe(1);
    expect(rec.commands.map((c) => c.line)).toEqual(['nft -f - (netns gw)']);
    expect(r.script).toBe('delete element inet strait ext_to_real { 10.0.0.5 }\nadd element inet strait ext_to_real { 10.0.0.5 : 172.16.0.5 }\n');
    // memory says 10.0.0.5 → 172.16.0.5, the kernel disagrees: the write fails, one read, one retry
    failNextWrite = true;
    rec.clear();
    await nft.apply('gw', natTable(100), { trustLastApplied: true });
    expect(listed).toBe(2);
    expect(rec.writes).toHaveLength(2);
  });

  it('updateElements writes only the changed elements', async () => {
    const net = new FakeNetwork();
    await net.nft.apply(HOST, natTable(10_000));
    const ref = { family: 'inet' as const, table: 'strait', name: 'ext_to_real' };
    const r = await net.nft.updateElements(HOST, ref, { add: [['10.0.0.7', '172.16.0.7'], ['10.99.0.1', '172.16.0.8'], ['10.0.0.8', '192.168.0.8']], delete: ['10.0.0.9', '10.98.0.1'] });
    expect(r.script).toBe(
      'delete element inet strait ext_to_real { 10.0.0.9, 10.0.0.7 }\nadd element inet strait ext_to_real { 10.0.0.7 : 172.16.0.7, 10.99.0.1 : 172.16.0.8 }\n',
    );
    expect((await net.nft.updateElements(HOST, ref, { add: [['10.0.0.7', '172.16.0.7']] })).writes).toBe(0);
    const t = await net.nft.read(HOST, 'inet', 'strait');
    expect(t?.sets.get('ext_to_real')?.elements.size).toBe(10_000);
    await expect(net.nft.updateElements(HOST, { ...ref, name: 'nope' }, { add: [] })).rejects.toThrow('has no set or map "nope"');
    await expect(net.nft.updateElements(HOST, ref, { add: [['10.0.0.1', 'x']] })).rejects.toThrow('map ext_to_real.add[0][1]: "x" is not an IPv4 address');
    // the real port remembers what it committed
    const rec = new RecordingRunner((_c, args) => (args.includes('list') ? { fail: 'Error: No such file or directory', exitCode: 1 } : ''));
    const nft = new NftTables(rec);
    await nft.apply('gw', natTable(10));
    rec.clear();
    await nft.updateElements('gw', ref, { add: [['10.0.0.1', '172.16.0.1']] });
    expect(rec.commands.map((c) => c.input)).toEqual(['delete element inet strait ext_to_real { 10.0.0.1 }\nadd element inet strait ext_to_real { 10.0.0.1 : 172.16.0.1 }\n']);
  });
});
