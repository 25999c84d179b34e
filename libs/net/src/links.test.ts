import { HOST } from './apply-report.ts';
import { describe, expect, it } from 'vitest';
import { FakeNetwork } from './fake/fake-network.ts';
import { IpLinks, NetOwnershipConflict, createArgs, planLinks, type Link, type LinkSpec, type VxlanSpec } from './links.ts';
import { RecordingRunner } from './recording-runner.ts';

function link(l: Partial<Link> & { name: string }): Link {
  return { ifindex: 2, kind: undefined, mtu: 1500, up: true, operstate: 'UP', master: undefined, alias: undefined, owner: undefined, mac: undefined, peer: undefined, vxlan: undefined, ...l };
}

const VX: LinkSpec = { name: 'vx-b', kind: 'vxlan', mtu: 1450, vxlan: { vni: 42, local: '10.9.0.1', remote: '10.9.0.2', dev: 'eth0' } };

describe('links', () => {
  it('creates a veth whose peer goes to another namespace, already owned there', () => {
    const plan = planLinks([], [{ name: 'strait.host', kind: 'veth', mtu: 1420, peer: { name: 'strait.gw', netns: 'strait-netns' } }], 'tunnel-operator');
    expect(plan.ops.map((o) => o.args.join(' '))).toEqual([
      'link add strait.host type veth peer name strait.gw',
      'link set dev strait.gw alias strait:tunnel-operator/peer mtu 1420',
      'link set dev strait.gw netns strait-netns',
      'link set dev strait.host alias strait:tunnel-operator mtu 1420 up',
    ]);
    // rollback of the whole creation is one `link del`
    expect(plan.ops[0]?.undo).toEqual(['link', 'del', 'dev', 'strait.host']);
    expect(plan.ops.slice(1).every((o) => o.undo?.length === 0)).toBe(true);
  });

  it('creates vxlan with learning off; re-apply is a no-op; attribute changes are link set with undo', () => {
    const eth0 = link({ name: 'eth0' });
    const plan = planLinks([eth0], [VX], 'route-agent');
    expect(() => planLinks([], [VX], 'route-agent')).toThrow('links[0].vxlan.dev: eth0 does not exist');
    expect(plan.ops[0]?.args.join(' ')).toBe('link add vx-b type vxlan id 42 local 10.9.0.1 remote 10.9.0.2 dstport 4789 dev eth0 nolearning');
    const existing = link({
      name: 'vx-b', kind: 'vxlan', mtu: 1450, alias: 'strait:route-agent', owner: 'route-agent',
      vxlan: { vni: 42, local: '10.9.0.1', remote: '10.9.0.2', group: undefined, dstport: 4789, dev: 'eth0', learning: false, ttl: 0 },
    });
    expect(planLinks([eth0, existing], [VX], 'route-agent').ops).toEqual([]);
    const p2 = planLinks([eth0, existing], [{ ...VX, mtu: 1400, up: false }], 'route-agent');
    expect(p2.ops).toEqual([
      { args: ['link', 'set', 'dev', 'vx-b', 'mtu', '1400', 'down'], undo: ['link', 'set', 'dev', 'vx-b', 'mtu', '1450', 'up'] },
    ]);
    const p3 = planLinks([eth0, existing], [{ ...VX, vxlan: { ...(VX.vxlan as VxlanSpec), vni: 43 } }], 'route-agent');
    expect(p3.recreates).toHaveLength(1);
    expect(p3.ops.map((o) => o.args.slice(0, 3).join(' '))).toEqual(['link del dev', 'link add vx-b', 'link set dev']);
  });

  it('never touches links that are not this owner\'s', () => {
    const eth0 = link({ name: 'eth0' });
    const other = link({ name: 'wg-c', kind: 'wireguard', alias: 'strait:other', owner: 'other' });
    expect(planLinks([eth0, other], [], 'me').ops).toEqual([]);
    expect(() => planLinks([eth0], [{ name: 'eth0', kind: 'dummy' }], 'me')).toThrow(NetOwnershipConflict);
    expect(() => planLinks([eth0], [{ name: 'eth0', kind: 'dummy' }], 'me')).toThrow('link eth0 exists (physical) and is not Strait\'s: Strait does not modify it');
    expect(() => planLinks([other], [{ name: 'wg-c', kind: 'wireguard' }], 'me')).toThrow('belongs to strait:other, not strait:me');
  });

  it('adopts a daemon-created tun and releases (not deletes) it', () => {
    const tun = link({ name: 'wg-b', kind: 'tun', mtu: 1500, up: false });
    const p = planLinks([tun], [{ name: 'wg-b', kind: 'tun', mtu: 1420 }], 'tunnel-operator');
    expect(p.adopts).toHaveLength(1);
    expect(p.ops).toEqual([
      { args: ['link', 'set', 'dev', 'wg-b', 'alias', 'strait:tunnel-operator', 'mtu', '1420', 'up'], undo: ['link', 'set', 'dev', 'wg-b', 'alias', '', 'mtu', '1500', 'down'] },
    ]);
    const owned = { ...tun, alias: 'strait:tunnel-operator', owner: 'tunnel-operator' };
    expect(planLinks([owned], [], 'tunnel-operator').ops.map((o) => o.args.join(' '))).toEqual(['link set dev wg-b alias ']);
    expect(() => planLinks([], [{ name: 'wg-b', kind: 'tun' }], 'x')).toThrow('a tun link is created by its daemon');
  });

  it('the second end of a pair lives with the first: not deleted on its own, configured when listed', () => {
    const a = link({ name: 'va', kind: 'veth', alias: 'strait:op', owner: 'op', peer: 'vb' });
    const b = link({ name: 'vb', kind: 'veth', alias: 'strait:op/peer', owner: 'op', peerEnd: true, peer: 'va', up: false });
    const spec: LinkSpec = { name: 'va', kind: 'veth', peer: { name: 'vb' } };
    expect(planLinks([a, b], [spec], 'op').ops).toEqual([]);
    expect(planLinks([b], [], 'op').ops).toEqual([]); // e.g. the gateway namespace's view
    expect(planLinks([a, b], [], 'op').ops.map((o) => o.args.join(' '))).toEqual(['link del dev va']);
    expect(planLinks([a, b], [spec, { name: 'vb', kind: 'veth', peer: { name: 'va' } }], 'op').ops.map((o) => o.args.join(' '))).toEqual(['link set dev vb up']);
  });

  it('kernel wireguard, dummy and bridge links; bridges created before their slaves', () => {
    expect(createArgs({ name: 'wg-b', kind: 'wireguard' })).toEqual(['link', 'add', 'wg-b', 'type', 'wireguard']);
    expect(createArgs({ name: 'st-d', kind: 'dummy' })).toEqual(['link', 'add', 'st-d', 'type', 'dummy']);
    const plan = planLinks([], [{ name: 'st-d', kind: 'dummy', master: 'st-br' }, { name: 'st-br', kind: 'bridge' }], 'x');
    expect(plan.ops.map((o) => o.args.join(' '))).toEqual([
      'link add st-br type bridge',
      'link set dev st-br alias strait:x up',
      'link add st-d type dummy',
      'link set dev st-d alias strait:x master st-br up',
    ]);
  });

  it('validates specs', () => {
    expect(() => planLinks([], [{ name: 'a-name-much-too-long', kind: 'dummy' }], 'x')).toThrow('links[0].name: "a-name-much-too-long" is not a valid interface name');
    expect(() => planLinks([], [{ name: 'v', kind: 'veth' }], 'x')).toThrow('links[0].peer: a veth needs a peer');
    expect(() => planLinks([], [{ name: 'v', kind: 'vxlan', vxlan: { vni: 1 << 24 } }], 'x')).toThrow('links[0].vxlan.vni');
    expect(() => planLinks([], [{ name: 'v', kind: 'vxlan', vxlan: { vni: 1, remote: '1.2.3.4', group: '239.0.0.1' } }], 'x')).toThrow('either remote or group');
    expect(() => planLinks([], [], 'Bad Owner')).toThrow('owner "Bad Owner" is invalid');
  });

  it('reads and validates ip -d -j link show', async () => {
    const json = JSON.stringify([
      { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP'], mtu: 65536 },
      { ifindex: 7, link: 'a.c', ifname: 'a.b', flags: ['UP'], mtu: 1400, ifalias: 'strait:t', linkinfo: { info_kind: 'veth' } },
    ]);
    const links = await new IpLinks(new RecordingRunner(() => json)).list('n');
    expect(links[1]).toMatchObject({ name: 'a.b', kind: 'veth', owner: 't', peer: 'a.c', up: true, mtu: 1400 });
    await expect(new IpLinks(new RecordingRunner(() => '[{"ifindex": 1}]')).list('n')).rejects.toThrow(
      'ip -d -j link show (netns n): unexpected output: [0].ifname is missing, expected a string',
    );
    await expect(new IpLinks(new RecordingRunner(() => '{"not": "an array"}')).list('n')).rejects.toThrow('top level is an object, expected an array');
  });

  it('fake: veth across namespaces, idempotent, deleteOwned removes both ends only', async () => {
    const net = new FakeNetwork();
    await net.netns.ensure('gw');
    net.links.seed(HOST, { name: 'eth0' });
    const desired: LinkSpec[] = [{ name: 'strait.host', kind: 'veth', peer: { name: 'strait.gw', netns: 'gw' } }];
    await net.links.apply(HOST, desired, { owner: 'op' });
    const idx = (await net.links.get(HOST, 'strait.host'))?.ifindex;
    expect((await net.links.get('gw', 'strait.gw'))?.owner).toBe('op');
    expect((await net.links.apply(HOST, desired, { owner: 'op' })).writes).toBe(0);
    expect((await net.links.get(HOST, 'strait.host'))?.ifindex).toBe(idx);
    // the gateway side takes its end up without recreating it
    const gwSide = await net.links.apply('gw', [{ name: 'strait.gw', kind: 'veth', peer: { name: 'strait.host', netns: 'default' } }], { owner: 'op' });
    expect(gwSide).toMatchObject({ changed: 1, added: 0 });
    await net.links.deleteOwned(HOST, { owner: 'op' });
    expect((await net.links.list(HOST)).map((l) => l.name)).toEqual(['lo', 'eth0']);
    expect((await net.links.list('gw')).map((l) => l.name)).toEqual(['lo']);
  });
});
