import { describe, expect, it } from 'vitest';
import { mssClampRules, mssClampTable } from './mss.ts';
import { normalizeTable, planTable } from './nftables.ts';

describe('mss clamp', () => {
  it('clamps SYNs both ways to the route MTU', () => {
    expect(mssClampRules(['strait.gw', 'wg-b'])).toEqual([
      'oifname { "strait.gw", "wg-b" } tcp flags syn / syn,rst tcp option maxseg size set rt mtu',
      'iifname { "strait.gw", "wg-b" } tcp flags syn / syn,rst tcp option maxseg size set rt mtu',
    ]);
  });

  it('clamps to a fixed value only when larger', () => {
    expect(mssClampRules(['wg-b'], 1380)[0]).toBe('oifname "wg-b" tcp flags syn / syn,rst tcp option maxseg size > 1380 tcp option maxseg size set 1380');
    expect(() => mssClampRules([], 1380)).toThrow('interfaces: at least one interface is needed');
    expect(() => mssClampRules(['wg-b'], 100)).toThrow('mss: 100 is not an integer in 536..65495');
  });

  it('is a table of its own (inet strait_mss), forward at mangle priority', () => {
    const t = mssClampTable({ interfaces: ['wg-b'], mss: 1380, local: true });
    expect(t.name).toBe('strait_mss');
    expect(planTable(undefined, normalizeTable(t)).script).toContain(
      'add chain inet strait_mss clamp { type filter hook forward priority -150 ; policy accept ; }',
    );
    expect(t.chains.map((c) => c.name)).toEqual(['clamp', 'clamp_out', 'clamp_in']);
  });
});
