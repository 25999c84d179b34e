import { cidrsOverlap } from '@strait/api';
import { describe, expect, it } from 'vitest';
import { allocateBlock, planRemaps, type RemapInput } from './remap.ts';

const POOL = ['100.64.0.0/10'];

function input(over: Partial<RemapInput>): RemapInput {
  return { localClusterId: 'cluster-a', reserved: ['10.1.0.0/16', '10.96.0.0/16'], presentations: new Map(), pool: POOL, peers: [], ...over };
}

describe('planRemaps', () => {
  it("never addresses a peer inside a CIDR the peer itself uses for another peer (its health-check image would shadow that peer)", () => {
    // local cluster-b, both peers share our pod CIDR; cluster-c addresses some other cluster as 100.64.0.0/16 and 100.65.0.0/16.
    const d = planRemaps(
      input({
        localClusterId: 'cluster-b',
        reserved: ['10.1.0.0/16'],
        peers: [
          { clusterId: 'cluster-a', podCidrs: ['10.1.0.0/16'] },
          { clusterId: 'cluster-c', podCidrs: ['10.1.0.0/16'], views: ['100.65.0.0/16', '100.64.0.0/16'] },
        ],
      }),
    );
    expect(d.map((x) => (x.ok ? x.remotePodCIDR : x.reason))).toEqual(['100.64.0.0/16', '100.66.0.0/16']);
  });

  it("moves a kept choice off a lower-ID peer's own views, keeps it against a higher-ID peer's (the pair converges)", () => {
    const d = planRemaps(
      input({
        localClusterId: 'cluster-b',
        reserved: ['10.1.0.0/16'],
        peers: [
          { clusterId: 'cluster-a', podCidrs: ['10.1.0.0/16'], current: '100.64.0.0/16', views: ['100.64.0.0/16'] },
          { clusterId: 'cluster-c', podCidrs: ['10.1.0.0/16'], current: '100.65.0.0/16', views: ['100.65.0.0/16'] },
        ],
      }),
    );
    expect(d).toEqual([
      { clusterId: 'cluster-a', ok: true, remotePodCIDR: '100.66.0.0/16', changed: true },
      { clusterId: 'cluster-c', ok: true, remotePodCIDR: '100.65.0.0/16', changed: false },
    ]);
  });

  it('leaves peers without a conflict unremapped', () => {
    const d = planRemaps(input({ peers: [{ clusterId: 'cluster-b', podCidrs: ['10.2.0.0/16'] }, { clusterId: 'cluster-c', podCidrs: ['10.3.0.0/16'] }] }));
    expect(d).toEqual([
      { clusterId: 'cluster-b', ok: true, remotePodCIDR: undefined, changed: false },
      { clusterId: 'cluster-c', ok: true, remotePodCIDR: undefined, changed: false },
    ]);
  });

  it('remaps a peer whose pod CIDR conflicts with ours to the first free block of its size', () => {
    const d = planRemaps(input({ peers: [{ clusterId: 'cluster-b', podCidrs: ['10.1.0.0/16'] }] }));
    expect(d).toEqual([{ clusterId: 'cluster-b', ok: true, remotePodCIDR: '100.64.0.0/16', changed: true }]);
  });

  it('of two peers with the same pod CIDR keeps the first by cluster ID and remaps the other, whatever the input order', () => {
    const peers = [{ clusterId: 'cluster-c', podCidrs: ['10.5.0.0/16'] }, { clusterId: 'cluster-b', podCidrs: ['10.5.0.0/16'] }];
    const d1 = planRemaps(input({ peers }));
    const d2 = planRemaps(input({ peers: [...peers].reverse() }));
    expect(d1).toEqual(d2);
    expect(d1.map((d) => (d.ok ? d.remotePodCIDR : d.reason))).toEqual([undefined, '100.64.0.0/16']);
  });

  it('keeps the persisted choices of existing peers when a new peer with a smaller ID arrives (stability)', () => {
    const d = planRemaps(
      input({
        peers: [
          { clusterId: 'cluster-x', podCidrs: ['10.5.0.0/16'], current: null },
          { clusterId: 'cluster-y', podCidrs: ['10.1.0.0/16'], current: '100.64.0.0/16' },
          { clusterId: 'cluster-b', podCidrs: ['10.5.0.0/16'] },
        ],
      }),
    );
    expect(d).toEqual([
      { clusterId: 'cluster-b', ok: true, remotePodCIDR: '100.65.0.0/16', changed: true },
      { clusterId: 'cluster-x', ok: true, remotePodCIDR: undefined, changed: false },
      { clusterId: 'cluster-y', ok: true, remotePodCIDR: '100.64.0.0/16', changed: false },
    ]);
  });

  it('never hands out a block twice and never overlaps ours or the peers as we address them', () => {
    const peers = Array.from({ length: 20 }, (_, i) => ({ clusterId: `c-${String(i).padStart(2, '0')}`, podCidrs: ['10.1.0.0/16'] }));
    const d = planRemaps(input({ reserved: ['10.1.0.0/16', '100.64.0.0/16', '100.66.0.0/15'], peers }));
    const got = d.map((x) => (x.ok ? x.remotePodCIDR : undefined));
    expect(got.every((x) => typeof x === 'string')).toBe(true);
    const all = [...(got as string[]), '10.1.0.0/16', '100.64.0.0/16', '100.66.0.0/15'];
    for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) expect(cidrsOverlap(all[i]!, all[j]!), `${all[i]} vs ${all[j]}`).toBe(false);
    expect(got.slice(0, 3)).toEqual(['100.65.0.0/16', '100.68.0.0/16', '100.69.0.0/16']);
  });

  it('moves a persisted choice that became invalid (now overlapping our own CIDRs) and reports the change', () => {
    const d = planRemaps(input({ reserved: ['10.1.0.0/16', '100.64.0.0/16'], peers: [{ clusterId: 'cluster-b', podCidrs: ['10.1.0.0/16'], current: '100.64.0.0/16' }] }));
    expect(d).toEqual([{ clusterId: 'cluster-b', ok: true, remotePodCIDR: '100.65.0.0/16', changed: true }]);
  });

  it('drops a remap that is no longer needed', () => {
    const d = planRemaps(input({ peers: [{ clusterId: 'cluster-b', podCidrs: ['10.9.0.0/16'], current: '100.64.0.0/16' }] }));
    // Still valid, so it is kept (moving addresses breaks connections); a peer that did not need one never gets one.
    expect(d[0]).toMatchObject({ ok: true, remotePodCIDR: '100.64.0.0/16', changed: false });
  });

  it('never hands out how a peer addresses us; on a clash of kept choices the greater cluster ID moves', () => {
    const peers = [{ clusterId: 'cluster-b', podCidrs: ['10.1.0.0/16'], current: '100.64.0.0/16' }];
    // cluster-a < cluster-b: a keeps its choice, b has to move.
    const a = planRemaps(input({ presentations: new Map([['cluster-b', '100.64.0.0/16']]), peers }));
    expect(a[0]).toMatchObject({ ok: true, remotePodCIDR: '100.64.0.0/16', changed: false });
    const b = planRemaps(
      input({ localClusterId: 'cluster-c', presentations: new Map([['cluster-b', '100.64.0.0/16']]), peers }),
    );
    expect(b[0]).toMatchObject({ ok: true, remotePodCIDR: '100.65.0.0/16', changed: true });
    // New allocations avoid every presentation.
    const n = planRemaps(input({ presentations: new Map([['cluster-z', '100.64.0.0/16']]), peers: [{ clusterId: 'cluster-b', podCidrs: ['10.1.0.0/16'] }] }));
    expect(n[0]).toMatchObject({ remotePodCIDR: '100.65.0.0/16' });
  });

  it('refuses (per peer) when the pool is exhausted or has no range of the family', () => {
    const d = planRemaps(
      input({
        pool: ['100.64.0.0/16'],
        peers: [
          { clusterId: 'cluster-b', podCidrs: ['10.1.0.0/16'] },
          { clusterId: 'cluster-c', podCidrs: ['10.1.0.0/16'] },
          { clusterId: 'cluster-d', podCidrs: ['fd00::/48'] },
          { clusterId: 'cluster-e', podCidrs: ['fd00::/48'] },
        ],
      }),
    );
    expect(d[0]).toMatchObject({ ok: true, remotePodCIDR: '100.64.0.0/16' });
    expect(d[1]).toMatchObject({ ok: false, reason: expect.stringMatching(/10\.1\.0\.0\/16 conflicts with .*no free \/16/) });
    expect(d[2]).toMatchObject({ ok: true, remotePodCIDR: undefined });
    expect(d[3]).toMatchObject({ ok: false, reason: expect.stringMatching(/no IPv6 range/) });
  });
});

describe('allocateBlock', () => {
  it('jumps over large taken ranges and respects alignment', () => {
    expect(allocateBlock(['100.64.0.0/10'], 24, 4, ['100.64.0.0/12'])).toBe('100.80.0.0/24');
    expect(allocateBlock(['100.64.0.0/10'], 24, 4, ['100.64.0.0/24', '100.64.1.0/25'])).toBe('100.64.2.0/24');
    expect(allocateBlock(['100.64.0.0/10'], 8, 4, [])).toBeUndefined();
    expect(allocateBlock(['fd99::/40', '100.64.0.0/10'], 16, 4, [])).toBe('100.64.0.0/16');
  });
});
