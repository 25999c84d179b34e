import { BACKENDS, type Backend } from '@strait/api';
import { describe, expect, it } from 'vitest';
import { NoCommonBackendError, PAIR_VNI_MAX, PAIR_VNI_MIN, chooseBackend, pairVni, tunnelBackendConfig } from './backend.ts';
import { offerConfig } from './testing/fixtures.ts';

const offer = (id: string, ...backends: Backend[]) => ({ backend: backends[0]!, backendConfig: offerConfig(id, backends) });

/** Both sides of the pair must compute the same backend. */
function choose(a: [string, Backend[]], b: [string, Backend[]]): Backend {
  const oa = offer(a[0], ...a[1]);
  const ob = offer(b[0], ...b[1]);
  const fromA = chooseBackend(a[0], oa, b[0], ob);
  expect(chooseBackend(b[0], ob, a[0], oa)).toBe(fromA);
  return fromA;
}

describe('chooseBackend', () => {
  it('takes the backend both prefer', () => {
    expect(choose(['cluster-a', ['ipsec', 'wireguard']], ['cluster-b', ['ipsec', 'vxlan']])).toBe('ipsec');
    expect(choose(['cluster-a', ['wireguard']], ['cluster-b', ['wireguard']])).toBe('wireguard');
  });

  it('else the preference of the cluster whose id sorts first, when common', () => {
    expect(choose(['cluster-a', ['vxlan', 'wireguard']], ['cluster-b', ['wireguard', 'vxlan']])).toBe('vxlan');
    expect(choose(['cluster-b', ['vxlan', 'wireguard']], ['cluster-a', ['wireguard', 'vxlan']])).toBe('wireguard');
  });

  it("else the other cluster's preference, when common", () => {
    // cluster-a prefers ipsec, which cluster-b does not offer; cluster-b prefers vxlan, which both offer.
    expect(choose(['cluster-a', ['ipsec', 'vxlan', 'wireguard']], ['cluster-b', ['vxlan', 'wireguard']])).toBe('vxlan');
  });

  it('else the first common backend in BACKENDS order', () => {
    // Neither preference is offered by the other side.
    expect(choose(['cluster-a', ['ipsec', 'vxlan']], ['cluster-b', ['wireguard', 'vxlan']])).toBe('vxlan');
    expect(choose(['cluster-a', ['ipsec', 'vxlan', 'wireguard']], ['cluster-b', ['wireguard', 'ipsec', 'vxlan']])).toBe('ipsec');
  });

  it("the lab's mixed rotation leaves exactly one common backend per pair", () => {
    const rotation: Array<[string, Backend[]]> = [
      ['cluster-1', ['wireguard', 'vxlan']],
      ['cluster-2', ['ipsec', 'wireguard']],
      ['cluster-3', ['vxlan', 'ipsec']],
    ];
    expect(choose(rotation[0]!, rotation[1]!)).toBe('wireguard');
    expect(choose(rotation[0]!, rotation[2]!)).toBe('vxlan');
    expect(choose(rotation[1]!, rotation[2]!)).toBe('ipsec');
  });

  it('names both offers when there is no backend in common', () => {
    const a = offer('cluster-a', 'wireguard');
    const b = offer('cluster-b', 'ipsec', 'vxlan');
    expect(() => chooseBackend('cluster-a', a, 'cluster-b', b)).toThrow(NoCommonBackendError);
    expect(() => chooseBackend('cluster-a', a, 'cluster-b', b)).toThrow(
      'no cable driver in common: cluster-a offers wireguard (prefers wireguard); cluster-b offers ipsec, vxlan (prefers ipsec)',
    );
  });

  it('is the same from both sides for every pair of offers', () => {
    const subsets = (): Backend[][] => {
      const out: Backend[][] = [];
      const perms = (rest: Backend[], acc: Backend[]): void => {
        if (acc.length > 0) out.push(acc);
        for (const b of rest) perms(rest.filter((x) => x !== b), [...acc, b]);
      };
      perms([...BACKENDS], []);
      return out;
    };
    let compared = 0;
    for (const x of subsets()) {
      for (const y of subsets()) {
        const ox = offer('cluster-x', ...x);
        const oy = offer('cluster-y', ...y);
        let fromX: string;
        let fromY: string;
        try {
          fromX = chooseBackend('cluster-x', ox, 'cluster-y', oy);
        } catch (e) {
          fromX = (e as Error).name;
        }
        try {
          fromY = chooseBackend('cluster-y', oy, 'cluster-x', ox);
        } catch (e) {
          fromY = (e as Error).name;
        }
        expect(fromY).toBe(fromX);
        if (fromX !== 'NoCommonBackendError') expect(x.includes(fromX as Backend) && y.includes(fromX as Backend)).toBe(true);
        compared++;
      }
    }
    expect(compared).toBe(15 * 15);
  });
});

describe('pairVni', () => {
  it('is symmetric, deterministic, in range and away from the overlay VNI', () => {
    expect(pairVni('cluster-1', 'cluster-2')).toBe(pairVni('cluster-2', 'cluster-1'));
    expect(pairVni('cluster-1', 'cluster-2')).toBe(pairVni('cluster-1', 'cluster-2'));
    const vnis = new Set<number>();
    for (let i = 1; i <= 20; i++) {
      for (let j = i + 1; j <= 20; j++) {
        const v = pairVni(`cluster-${i}`, `cluster-${j}`);
        expect(v).toBeGreaterThanOrEqual(PAIR_VNI_MIN);
        expect(v).toBeLessThanOrEqual(PAIR_VNI_MAX);
        expect(v).not.toBe(4800);
        vnis.add(v);
      }
    }
    expect(vnis.size).toBe((20 * 19) / 2);
  });
});

describe('tunnelBackendConfig', () => {
  it("uses the remote's settings, and for VXLAN the pair's VNI", () => {
    const remote = offer('cluster-b', 'ipsec', 'vxlan', 'wireguard');
    expect(tunnelBackendConfig('ipsec', 'cluster-a', 'cluster-b', remote)).toEqual({ port: 500, config: { ipsec: { ikeID: 'cluster-b', port: 500, natTPort: 4500 } } });
    expect(tunnelBackendConfig('vxlan', 'cluster-a', 'cluster-b', remote)).toEqual({ port: 4789, config: { vxlan: { vni: pairVni('cluster-a', 'cluster-b'), port: 4789 } } });
    expect(tunnelBackendConfig('wireguard', 'cluster-a', 'cluster-b', remote).port).toBe(51820);
    expect(() => tunnelBackendConfig('vxlan', 'cluster-a', 'cluster-b', offer('cluster-b', 'wireguard'))).toThrow('cluster-b does not offer vxlan');
  });
});
