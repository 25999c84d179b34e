import { HOST } from './apply-report.ts';
import { describe, expect, it } from 'vitest';
import { FakeNetwork } from './fake/fake-network.ts';
import { IpNeighbours } from './neighbours.ts';
import { RecordingRunner } from './recording-runner.ts';

const LINKS = JSON.stringify([
  { ifindex: 2, ifname: 'eth0', flags: ['UP'], mtu: 1500 },
  {
    ifindex: 3, ifname: 'vx0', flags: ['UP'], mtu: 1450, ifalias: 'strait:ra',
    linkinfo: { info_kind: 'vxlan', info_data: { id: 42, remote: '10.9.0.2', local: '10.9.0.1', port: 4789, learning: false } },
  },
]);
const FDB = JSON.stringify([
  { mac: '00:00:00:00:00:00', dst: '10.9.0.2', flags: ['self'], state: 'permanent' },
  { mac: '00:00:00:00:00:00', dst: '10.9.0.7', flags: ['self'], state: 'permanent' },
  { mac: '02:00:00:00:00:01', dst: '10.9.0.9', flags: ['self'], state: 'permanent' },
  { mac: '02:00:00:00:00:05', dst: '10.9.0.9', flags: ['self'], state: 'stale' },
]);

describe('neighbours and fdb', () => {
  it('diffs static fdb entries of owned vxlan links, leaving the link\'s own remote alone', async () => {
    const rec = new RecordingRunner((cmd, args) => (cmd === 'ip' ? LINKS : args.includes('show') ? FDB : ''));
    const n = new IpNeighbours(rec);
    expect((await n.listFdb('h', { owner: 'ra' })).map((e) => `${e.mac}>${e.dst}`)).toEqual(['00:00:00:00:00:00>10.9.0.7', '02:00:00:00:00:01>10.9.0.9']);
    await n.applyFdb('h', [
      { dev: 'vx0', mac: '00:00:00:00:00:00', dst: '10.9.0.7' },
      { dev: 'vx0', mac: '00:00:00:00:00:00', dst: '10.9.0.8' },
    ], { owner: 'ra' });
    expect(rec.writes.map((w) => `${w.line}\n${w.input}`)).toEqual([
      'bridge -batch - (netns h)\nfdb append 00:00:00:00:00:00 dev vx0 dst 10.9.0.8\nfdb del 02:00:00:00:00:01 dev vx0 dst 10.9.0.9\n',
    ]);
    await expect(n.applyFdb('h', [{ dev: 'eth0', mac: '00:00:00:00:00:00', dst: '1.1.1.1' }], { owner: 'ra' })).rejects.toThrow('fdb[0].dev: eth0 is not a link of this owner');
  });

  it('static neighbours with the fake', async () => {
    const net = new FakeNetwork();
    await net.links.apply(HOST, [{ name: 'br-s', kind: 'bridge' }], { owner: 'op' });
    const d = [{ dev: 'br-s', address: '10.1.0.2', lladdr: '02:00:00:00:00:AA' }];
    expect((await net.neighbours.applyNeighbours(HOST, d, { owner: 'op' })).added).toBe(1);
    expect((await net.neighbours.applyNeighbours(HOST, d, { owner: 'op' })).writes).toBe(0);
    expect((await net.neighbours.listNeighbours(HOST, { owner: 'op' }))[0]?.lladdr).toBe('02:00:00:00:00:aa');
  });
});
