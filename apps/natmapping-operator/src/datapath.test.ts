import { FakeNetwork, computeNatState, type NatMappingInput, type NftPort } from '@strait/net';
import { describe, expect, it } from 'vitest';
import { NatDatapath } from './datapath.ts';
import { fakeNftRunner } from './testing/fake-nft-runner.ts';

const GW = 'gw';

function m(name: string, entries: [string, string][], podCIDR = '10.20.0.0/16', created = '2025-01-01T00:00:00Z'): NatMappingInput {
  return {
    metadata: { name, namespace: 'ns', generation: 1, creationTimestamp: created },
    spec: { podCIDR, externalCIDR: '10.32.0.0/16', entries: entries.map(([externalIP, realIP]) => ({ externalIP, realIP })) },
  };
}

/** The fake nftables port, recording which operation the datapath chose. */
function recorded(net: FakeNetwork): { nft: NftPort; calls: string[] } {
  const calls: string[] = [];
  const nft: NftPort = {
    listTables: (ns) => net.nft.listTables(ns),
    read: (ns, f, n) => net.nft.read(ns, f, n),
    apply: (ns, spec, opts) => {
      calls.push(opts?.trustLastApplied ? 'apply(trusted)' : 'apply(read back)');
      return net.nft.apply(ns, spec);
    },
    updateElements: (ns, ref, ch) => {
      calls.push(`updateElements(${ref.name})`);
      return net.nft.updateElements(ns, ref, ch);
    },
    deleteTable: (ns, f, n) => net.nft.deleteTable(ns, f, n),
  };
  return { nft, calls };
}

describe('NatDatapath', () => {
  it('reads back first, then writes only changed elements (sources included) as one transaction', async () => {
    const net = new FakeNetwork();
    const { nft, calls } = recorded(net);
    const dp = new NatDatapath({ netnsName: GW, netns: net.netns, sysctl: net.sysctl, nft, runner: fakeNftRunner(net) });
    const a = m('a', [['10.32.0.1', '192.168.0.1']]);
    expect(await dp.sync(computeNatState([a]))).toMatchObject({ kind: 'table', transactions: 1, readBack: true });
    expect(await dp.sync(computeNatState([a]))).toMatchObject({ kind: 'none', transactions: 0 });
    const a2 = m('a', [['10.32.0.1', '192.168.0.9']]);
    expect(await dp.sync(computeNatState([a2]))).toEqual({ kind: 'elements', transactions: 1, elementsAdded: 1, elementsRemoved: 1, readBack: false });
    const b = m('b', [['10.32.0.2', '192.168.0.2']], '10.21.0.0/16');
    const writes = net.state.writes.length;
    expect(await dp.sync(computeNatState([a2, b]))).toEqual({ kind: 'elements', transactions: 1, elementsAdded: 2, elementsRemoved: 0, readBack: false });
    expect(net.state.writes.slice(writes).map((w) => w.lines)).toEqual([
      ['add element inet strait_natmap src4 { 10.21.0.0/16 }', 'add element inet strait_natmap ext4 { 10.32.0.2 : 192.168.0.2 }'],
    ]);
    expect(calls).toEqual(['apply(read back)']);
    expect(dp.programmed?.maps[4].get('10.32.0.1')).toBe('192.168.0.9');
  });

  it('after a failed transaction keeps the last known state and reads the table back next time', async () => {
    const net = new FakeNetwork();
    const { nft, calls } = recorded(net);
    const dp = new NatDatapath({ netnsName: GW, netns: net.netns, sysctl: net.sysctl, nft, runner: fakeNftRunner(net) });
    const a = m('a', [['10.32.0.1', '192.168.0.1']]);
    await dp.sync(computeNatState([a]));
    net.failNext('10.32.0.2');
    const a2 = m('a', [['10.32.0.1', '192.168.0.1'], ['10.32.0.2', '192.168.0.2']]);
    await expect(dp.sync(computeNatState([a2]))).rejects.toThrow(/Operation not permitted/);
    expect(dp.programmed?.maps[4].size).toBe(1);
    await dp.sync(computeNatState([a2]));
    expect(calls).toEqual(['apply(read back)', 'apply(read back)']);
    expect(dp.programmed?.maps[4].size).toBe(2);
  });

  it('turns forwarding on (IPv6 best effort) without writing when it already is', async () => {
    const net = new FakeNetwork();
    const dp = new NatDatapath({ netnsName: GW, netns: net.netns, sysctl: net.sysctl, nft: net.nft, runner: fakeNftRunner(net) });
    net.sysctl.remove('net/ipv6/conf/all/forwarding');
    await dp.prepare();
    expect((await net.sysctl.get(GW, ['net/ipv4/ip_forward'])).get('net/ipv4/ip_forward')).toBe('1');
    const writes = net.writes;
    await new NatDatapath({ netnsName: GW, netns: net.netns, sysctl: net.sysctl, nft: net.nft, runner: fakeNftRunner(net) }).prepare();
    expect(net.writes).toBe(writes);
  });
});
