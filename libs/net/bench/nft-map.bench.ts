/**
 * NAT map benchmark: nftables map (one transaction) vs per-rule iptables, in a throwaway
 * namespace this script creates and deletes. Root only. Prints JSON and a human line.
 *
 *   npx node libs/net/bench/nft-map.bench.ts [--entries 10000] [--repeat 5] [--json]
 *
 * --json: the result also as one compact JSON line, the last line of stdout (for `straitctl bench`).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execRunner } from '../src/exec.ts';
import { IpNetns } from '../src/netns.ts';
import { NftTables, type NftTableSpec } from '../src/nftables.ts';

const argv = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const N = opt('entries', 10_000);
const REPEAT = opt('repeat', 7);
const JSON_LINE = argv.includes('--json');

const ext = (i: number): string => `10.${100 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`;
const real = (i: number, gen = 0): string => `192.168.${(i >> 8) & 255}.${(i + gen) & 255}`;

function spec(gen: Map<number, number> = new Map()): NftTableSpec {
  const elements: [string, string][] = [];
  for (let i = 0; i < N; i++) elements.push([ext(i), real(i, gen.get(i) ?? 0)]);
  return {
    family: 'inet',
    name: 'strait',
    chains: [{ name: 'pre', type: 'nat', hook: 'prerouting', priority: 'dstnat', rules: ['dnat ip to ip daddr map @ext_to_real'] }],
    maps: [{ name: 'ext_to_real', type: 'ipv4_addr', valueType: 'ipv4_addr', elements }],
  };
}

const ms = (t0: number): number => Math.round((performance.now() - t0) * 100) / 100;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the benchmark needs root (it creates a network namespace)');
  const runner = execRunner({ defaultTimeoutMs: 600_000 });
  const netns = new IpNetns(runner);
  const ns = `st-bench-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'strait-bench-'));
  await netns.ensure(ns);
  try {
    const nft = new NftTables(runner);

    // --- nftables: 10 000 elements in one transaction (desired state built before timing)
    const initial = spec();
    let t0 = performance.now();
    const first = await nft.apply(ns, initial);
    const nftApplyAllMs = ms(t0);

    // --- one element changed at 10 000, three ways:
    //  full:     apply(desired) reads the table back (nft -j list), normalizes, diffs, one transaction
    //  trusted:  apply(desired, { trustLastApplied }) diffs against what this port last committed
    //  update:   updateElements(map, { add: [[key, value]] }) — O(changed), no restatement
    // and the bare transaction (nft -f with the 1 delete + 1 add) for reference.
    const full: number[] = [];
    const trusted: number[] = [];
    const update: number[] = [];
    const bare: number[] = [];
    let lastScript = '';
    const ref = { family: 'inet' as const, table: 'strait', name: 'ext_to_real' };
    for (let r = 1; r <= REPEAT; r++) {
      const i = (r * 7919) % N;
      const desired = spec(new Map([[i, r]]));
      const desiredNext = spec(new Map([[i, r + 1]]));
      t0 = performance.now();
      const rep = await nft.apply(ns, desired);
      full.push(ms(t0));
      lastScript = rep.script;
      if (rep.elementsAdded !== 1 || rep.elementsRemoved !== 1) throw new Error(`expected 1 delete + 1 add, got ${rep.script}`);
      t0 = performance.now();
      await nft.apply(ns, desiredNext, { trustLastApplied: true });
      trusted.push(ms(t0));
      t0 = performance.now();
      await nft.updateElements(ns, ref, { add: [[ext(i), real(i, r + 2)]] });
      update.push(ms(t0));
      t0 = performance.now();
      await runner.run('nft', ['-f', '-'], {
        netns: ns,
        input: `delete element inet strait ext_to_real { ${ext(i)} }\nadd element inet strait ext_to_real { ${ext(i)} : ${real(i)} }\n`,
      });
      bare.push(ms(t0));
      await nft.apply(ns, spec());
    }
    const same = spec();
    t0 = performance.now();
    const noop = await nft.apply(ns, same);
    const nftNoopMs = ms(t0);

    // --- iptables: one process per rule (how a per-rule sync programs DNAT), then one change
    await runner.run('iptables', ['-t', 'nat', '-N', 'STRAIT_BENCH'], { netns: ns });
    const lines: string[] = [];
    for (let i = 0; i < N; i++) lines.push(`iptables -t nat -A STRAIT_BENCH -d ${ext(i)}/32 -j DNAT --to-destination ${real(i)}`);
    const script = join(dir, 'iptables.sh');
    writeFileSync(script, `${lines.join('\n')}\n`);
    t0 = performance.now();
    await runner.run('sh', ['-e', script], { netns: ns, timeoutMs: 3_600_000 });
    const iptablesAllMs = ms(t0);
    const iptOne: number[] = [];
    for (let r = 1; r <= REPEAT; r++) {
      const i = (r * 7919) % N;
      t0 = performance.now();
      await runner.run('iptables', ['-t', 'nat', '-R', 'STRAIT_BENCH', String(i + 1), '-d', `${ext(i)}/32`, '-j', 'DNAT', '--to-destination', real(i, r)], { netns: ns });
      iptOne.push(ms(t0));
    }
    // iptables-restore of the whole chain in one go, for reference
    const restore = ['*nat', ':STRAIT_BENCH2 - [0:0]', ...lines.map((l) => l.replace('iptables -t nat -A STRAIT_BENCH', '-A STRAIT_BENCH2')), 'COMMIT', ''].join('\n');
    t0 = performance.now();
    await runner.run('iptables-restore', ['--noflush'], { netns: ns, input: restore, timeoutMs: 600_000 });
    const iptablesRestoreMs = ms(t0);

    const result = {
      entries: N,
      repeat: REPEAT,
      cpus: availableParallelism(),
      loadavg1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
      nft: {
        applyAllMs: nftApplyAllMs,
        applyAllStatements: first.script.split('\n').filter(Boolean).length,
        oneChangeTransaction: lastScript.trim().split('\n'),
        oneChangeFullApplyMs: median(full),
        oneChangeTrustedApplyMs: median(trusted),
        oneChangeUpdateElementsMs: median(update),
        oneChangeBareTransactionMs: median(bare),
        reapplySameMs: nftNoopMs,
        reapplySameWrites: noop.writes,
      },
      iptables: {
        perRuleAllMs: iptablesAllMs,
        oneRuleChangeMs: median(iptOne),
        restoreAllMs: iptablesRestoreMs,
      },
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(
      `nftables map: ${N} elements in one transaction ${nftApplyAllMs} ms; one change (1 delete + 1 add): ` +
        `updateElements ${result.nft.oneChangeUpdateElementsMs} ms, apply trusted ${result.nft.oneChangeTrustedApplyMs} ms, ` +
        `apply with read-back ${result.nft.oneChangeFullApplyMs} ms, bare nft -f ${result.nft.oneChangeBareTransactionMs} ms | ` +
        `iptables per rule: ${N} rules ${iptablesAllMs} ms, one change ${result.iptables.oneRuleChangeMs} ms | ` +
        `iptables-restore ${N} rules ${iptablesRestoreMs} ms`,
    );
    if (JSON_LINE) console.log(JSON.stringify(result));
  } finally {
    await netns.delete(ns);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
