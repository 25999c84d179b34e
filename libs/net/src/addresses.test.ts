import { HOST } from './apply-report.ts';
import { describe, expect, it } from 'vitest';
import { IpAddresses } from './addresses.ts';
import { FakeNetwork } from './fake/fake-network.ts';
import { RecordingRunner } from './recording-runner.ts';

const LINKS = JSON.stringify([
  { ifindex: 2, ifname: 'eth0', flags: ['UP'], mtu: 1500 },
  { ifindex: 3, ifname: 'strait.host', flags: ['UP'], mtu: 1500, ifalias: 'strait:op' },
]);
const ADDRS = JSON.stringify([
  { ifname: 'eth0', addr_info: [{ family: 'inet', local: '192.168.1.10', prefixlen: 24 }] },
  {
    ifname: 'strait.host',
    addr_info: [
      { family: 'inet', local: '169.254.100.1', prefixlen: 30 },
      { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' },
      { family: 'inet', local: '10.0.0.9', prefixlen: 32, noprefixroute: true },
    ],
  },
]);
const kernel = (): RecordingRunner => new RecordingRunner((_c, args) => (args.includes('link') ? LINKS : args.includes('address') && args.includes('show') ? ADDRS : ''));

describe('addresses', () => {
  it('manages addresses on owned links only, ignoring link-local', async () => {
    const rec = kernel();
    const a = new IpAddresses(rec);
    expect((await a.list(HOST, { owner: 'op' })).map((x) => x.address)).toEqual(['169.254.100.1/30', '10.0.0.9/32']);
    const r = await a.apply(HOST, [{ dev: 'strait.host', address: '169.254.100.1/30' }, { dev: 'strait.host', address: 'fd00::1/64', nodad: true }], { owner: 'op' });
    expect(r).toMatchObject({ added: 1, removed: 1, unchanged: 1, writes: 1 });
    expect(rec.writes[0]?.input).toBe('address add fd00::1/64 dev strait.host nodad\naddress del 10.0.0.9/32 dev strait.host\n');
  });

  it('zero writes when equal; refuses foreign links', async () => {
    const rec = kernel();
    const a = new IpAddresses(rec);
    await a.apply(HOST, [{ dev: 'strait.host', address: '169.254.100.1/30' }, { dev: 'strait.host', address: '10.0.0.9/32', noprefixroute: true }], { owner: 'op' });
    expect(rec.writes).toHaveLength(0);
    await expect(a.apply(HOST, [{ dev: 'eth0', address: '192.168.1.11/24' }], { owner: 'op' })).rejects.toThrow(
      'addresses[0].dev: eth0 is not a link of this owner',
    );
    await expect(a.apply(HOST, [{ dev: 'strait.host', address: '10.0.0.1' }], { owner: 'op' })).rejects.toThrow('is not an address with a prefix length');
  });

  it('fake: apply/idempotent/deleteOwned', async () => {
    const net = new FakeNetwork();
    await net.links.apply(HOST, [{ name: 'br-s', kind: 'bridge' }], { owner: 'op' });
    await net.addresses.apply(HOST, [{ dev: 'br-s', address: '10.1.0.1/24' }], { owner: 'op' });
    const w = net.writes;
    await net.addresses.apply(HOST, [{ dev: 'br-s', address: '10.1.0.1/24' }], { owner: 'op' });
    expect(net.writes).toBe(w);
    await net.addresses.deleteOwned(HOST, { owner: 'op' });
    expect(await net.addresses.list(HOST, { owner: 'op' })).toEqual([]);
  });
});
