/**
 * NAT mapping scale benchmark, through natmapping-operator's own apply path, next to per-rule
 * iptables DNAT in the same run. Root only: it creates a throwaway network namespace and removes it.
 * Not a test: it prints figures (one JSON line, then a table).
 *
 *   npx node apps/natmapping-operator/bench/nat-scale.bench.ts [--entries 10000] [--repeat 100] [--iptables-repeat 10] [--warmup 10] [--json]
 *
 * --json: the JSON line comes after the table, as the last line of stdout (for `straitctl bench`).
 *
 * Measured:
 *  - apply of N entries (one NatMapping): computeNatState + NatDatapath.sync, i.e. what one table
 *    reconcile does on a fresh node (the table is read back first, then written in one transaction);
 *  - one changed entry at N, three ways:
 *      apply path, nft -i session    computeNatState + diff + updateElements through the long-lived `nft -i`
 *      apply path, nft -f per change the same with one `ip netns exec … nft -f -` process per change
 *      reconciler end to end         from a NatMapping watch event (JSON text) to the kernel commit:
 *                                    parse, informer, workqueue, compute, diff, transaction
 *  - iptables, as a per-rule sync programs DNAT: one `iptables -t nat -A` process per rule, one
 *    `iptables -t nat -R` for one change; and iptables-restore of all N rules for reference.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatMappingResource, type NatMapping, type NatMappingEntry } from '@strait/api';
import {
  EventResource,
  FakeKubeApi,
  type ApplyObject,
  type EventsV1Event,
  type ListResult,
  type ResourceClient,
  type WatchEvent,
  type WatchOptions,
} from '@strait/kube';
import {
  IpNetns,
  NftSession,
  NftTables,
  ProcSysctl,
  computeNatState,
  diffNatState,
  execRunner,
  sessionRunner,
  type NatDesiredState,
} from '@strait/net';
import { pino } from 'pino';
import { NatDatapath, type SyncOutcome } from '../src/datapath.ts';
import { NatMappingOperator } from '../src/operator.ts';

const argv = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const N = opt('entries', 10_000);
const REPEAT = opt('repeat', 100);
const IPT_REPEAT = opt('iptables-repeat', 10);
/** Rounds run before each measured loop and not counted (JIT warm-up). */
const WARMUP = opt('warmup', 10);
const JSON_LAST = argv.includes('--json');

const ext = (i: number): string => `10.32.${(i >> 8) & 255}.${i & 255}`;
const real = (i: number, gen = 0): string => `192.168.${(i >> 8) & 255}.${(i + gen) & 255}`;

function entries(): NatMappingEntry[] {
  const out: NatMappingEntry[] = [];
  for (let i = 0; i < N; i++) out.push({ externalIP: ext(i), realIP: real(i) });
  return out;
}

/** A copy of `list` with entry `index` pointing elsewhere (as a new object from the informer would be). */
function changed(list: readonly NatMappingEntry[], index: number, gen: number): NatMappingEntry[] {
  const out = [...list];
  const e = out[index] as NatMappingEntry;
  out[index] = { ...e, realIP: real(index, gen) === e.realIP ? real(index, gen + 1) : real(index, gen) };
  return out;
}

function mapping(list: NatMappingEntry[]): NatMapping {
  return {
    apiVersion: 'net.strait.io/v1alpha1',
    kind: 'NatMapping',
    metadata: { name: 'bench', namespace: 'strait-system', generation: 1, creationTimestamp: '2025-01-01T00:00:00Z' as unknown as Date },
    spec: { clusterID: 'cluster-b', podCIDR: '10.20.0.0/16', externalCIDR: '10.32.0.0/16', entries: list },
  };
}

/** `some avg60` of /proc/pressure/cpu: share of time something waited for a CPU (other load on the machine). */
function cpuPressure(): number | undefined {
  try {
    const m = /some avg10=[\d.]+ avg60=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const ms = (t0: number): number => Math.round((performance.now() - t0) * 100) / 100;
const round = (x: number): number => Math.round(x * 100) / 100;

function stats(xs: number[]): { median: number; p90: number; min: number; max: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
  return { median: round(at(0.5)), p90: round(at(0.9)), min: round(s[0] ?? 0), max: round(s[s.length - 1] ?? 0), n: s.length };
}

/**
 * The smallest API the operator's informer and status writer need: one NatMapping, list, watch
 * (events parsed from JSON text), get and status apply. No cloning, no validation: what is timed is
 * the operator, not a fake API server.
 */
class WatchStub implements ResourceClient<NatMapping> {
  readonly descriptor = NatMappingResource;
  current: NatMapping;
  #rv = 1;
  #listeners = new Set<(ev: WatchEvent<NatMapping>) => void>();
  constructor(obj: NatMapping) {
    this.current = { ...obj, metadata: { ...obj.metadata, uid: 'bench-uid', resourceVersion: '1' } };
  }
  nextVersionJson(entries: NatMappingEntry[]): string {
    const m = this.current.metadata;
    return JSON.stringify({ ...this.current, metadata: { ...m, resourceVersion: String(++this.#rv), generation: (m.generation ?? 1) + 1 }, spec: { ...this.current.spec, entries } });
  }
  deliver(json: string): void {
    this.current = JSON.parse(json) as NatMapping;
    for (const l of this.#listeners) l({ type: 'MODIFIED', object: this.current });
  }
  async list(): Promise<ListResult<NatMapping>> {
    return { items: [this.current], resourceVersion: String(this.#rv) };
  }
  watch(opts: WatchOptions, onEvent: (ev: WatchEvent<NatMapping>) => void): Promise<void> {
    this.#listeners.add(onEvent);
    return new Promise((resolve) => {
      const end = (): void => {
        this.#listeners.delete(onEvent);
        resolve();
      };
      if (opts.signal?.aborted) end();
      opts.signal?.addEventListener('abort', end);
    });
  }
  async get(): Promise<NatMapping> {
    return this.current;
  }
  async applyStatus(obj: ApplyObject<NatMapping>): Promise<NatMapping> {
    const m = this.current.metadata;
    const status = { ...this.current.status, ...(obj.status as NatMapping['status']) };
    this.current = { ...this.current, metadata: { ...m, resourceVersion: String(++this.#rv) }, status };
    const ev = this.current;
    setImmediate(() => {
      for (const l of this.#listeners) l({ type: 'MODIFIED', object: ev });
    });
    return this.current;
  }
  create(): Promise<NatMapping> {
    throw new Error('not in the benchmark');
  }
  replace(): Promise<NatMapping> {
    throw new Error('not in the benchmark');
  }
  patch(): Promise<NatMapping> {
    throw new Error('not in the benchmark');
  }
  apply(): Promise<NatMapping> {
    throw new Error('not in the benchmark');
  }
  delete(): Promise<boolean> {
    throw new Error('not in the benchmark');
  }
  updateStatus(): Promise<NatMapping> {
    throw new Error('not in the benchmark');
  }
  patchStatus(): Promise<NatMapping> {
    throw new Error('not in the benchmark');
  }
}

/** Events go nowhere. */
function eventSink(): ResourceClient<EventsV1Event> {
  return new FakeKubeApi().client<EventsV1Event>(EventResource);
}

/** NatDatapath that reports every sync (to time the reconciler path end to end). */
class ObservedDatapath extends NatDatapath {
  onSync: ((o: SyncOutcome, state: NatDesiredState) => void) | undefined;
  override async sync(next: NatDesiredState, opts: { verify?: boolean } = {}): Promise<SyncOutcome> {
    const r = await super.sync(next, opts);
    this.onSync?.(r, next);
    return r;
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the benchmark needs root (it creates a network namespace)');
  const runner = execRunner({ defaultTimeoutMs: 3_600_000 });
  const netns = new IpNetns(runner);
  const ns = `st-${randomBytes(3).toString('hex')}-natbench`;
  const dir = mkdtempSync(join(tmpdir(), 'strait-natbench-'));
  const logger = pino({ level: 'silent' });
  const sessions: NftSession[] = [];
  try {
    // ---------------------------------------------------------------- nftables, operator apply path
    const session = new NftSession({ netns: ns });
    sessions.push(session);
    const dp = new NatDatapath({ netnsName: ns, netns, sysctl: new ProcSysctl(runner), nft: new NftTables(runner), runner: sessionRunner(runner, session) });
    await dp.prepare(); // creates the namespace (like tunnel-operator or the operator itself at start)

    const base = mapping(entries());
    let t0 = performance.now();
    const initialState = computeNatState([base]);
    const computeMs = ms(t0);
    t0 = performance.now();
    const first = await dp.sync(initialState);
    const applySyncMs = ms(t0);
    const applyAllMs = round(computeMs + applySyncMs);
    if (first.elementsAdded < N) throw new Error(`expected ${N} elements, got ${first.elementsAdded}`);

    const same: number[] = [];
    for (let r = 0; r < 10; r++) {
      t0 = performance.now();
      const noop = await dp.sync(computeNatState([mapping([...base.spec.entries])])); // a new object, same content
      same.push(performance.now() - t0);
      if (noop.transactions !== 0) throw new Error('re-apply of the same state wrote something');
    }
    const reapplySameMs = stats(same).median;

    // Fresh process over the same table: read back, zero writes (what a restart does).
    const dpRestart = new NatDatapath({ netnsName: ns, netns, sysctl: new ProcSysctl(runner), nft: new NftTables(runner), runner });
    t0 = performance.now();
    const restart = await dpRestart.sync(computeNatState([base]));
    const restartReadBackMs = ms(t0);
    if (restart.transactions !== 0) throw new Error('the read-back apply after a restart wrote something');

    // One change, apply path with the nft -i session.
    const oneSession: number[] = [];
    const oneCompute: number[] = [];
    let current = initialState;
    let list = base.spec.entries;
    for (let r = 1 - WARMUP; r <= REPEAT; r++) {
      const i = ((r + WARMUP) * 7919) % N;
      list = changed(list, i, r + WARMUP);
      const m = mapping(list);
      const tc = performance.now();
      const next = computeNatState([m]);
      const computed = performance.now() - tc;
      const o = await dp.sync(next);
      if (r > 0) {
        oneCompute.push(computed);
        oneSession.push(performance.now() - tc);
      }
      if (o.kind !== 'elements' || o.elementsAdded !== 1 || o.elementsRemoved !== 1) throw new Error(`expected 1 delete + 1 add, got ${JSON.stringify(o)}`);
      current = next;
    }
    const diffT0 = performance.now();
    diffNatState(initialState, current);
    const diffMs = ms(diffT0);

    // The bare transaction through the session (what the kernel and nft -i cost, without Strait's JS).
    const bare: number[] = [];
    for (let r = 0; r < REPEAT; r++) {
      const k = ext(r);
      const v = current.maps[4].get(k) as string;
      const other = v === '172.16.0.1' ? '172.16.0.2' : '172.16.0.1';
      for (const value of [other, v]) {
        t0 = performance.now();
        await session.run(`delete element inet strait_natmap ext4 { ${k} }\nadd element inet strait_natmap ext4 { ${k} : ${value} }\n`);
        bare.push(performance.now() - t0);
      }
    }

    // One change, apply path with one nft -f process per change.
    const dpSpawn = new NatDatapath({ netnsName: ns, netns, sysctl: new ProcSysctl(runner), nft: new NftTables(runner), runner });
    await dpSpawn.sync(current); // read back (no write)
    const oneSpawn: number[] = [];
    for (let r = 1 - WARMUP; r <= REPEAT; r++) {
      const i = ((r + WARMUP) * 104729) % N;
      list = changed(list, i, r + WARMUP + 1000);
      const m = mapping(list);
      t0 = performance.now();
      const next = computeNatState([m]);
      const o = await dpSpawn.sync(next);
      if (r > 0) oneSpawn.push(performance.now() - t0);
      if (o.kind !== 'elements' || o.elementsAdded !== 1 || o.elementsRemoved !== 1) throw new Error(`expected 1 delete + 1 add, got ${JSON.stringify(o)}`);
    }

    // ---------------------------------------------------------------- reconciler end to end
    // The operator (informer, workqueues, table and status reconcilers, datapath) against a minimal
    // in-memory API: each change arrives as a watch event parsed from JSON, as from kube-apiserver.
    const api = new WatchStub(mapping(list));
    const session2 = new NftSession({ netns: ns });
    sessions.push(session2);
    const odp = new ObservedDatapath({ netnsName: ns, netns, sysctl: new ProcSysctl(runner), nft: new NftTables(runner), runner: sessionRunner(runner, session2) });
    const op = new NatMappingOperator({
      client: api,
      events: eventSink(),
      namespace: 'strait-system',
      nodeName: 'bench-node',
      datapath: odp,
      logger,
    });
    const firstSync = new Promise<void>((resolve) => (odp.onSync = () => resolve()));
    await op.start({ syncTimeoutMs: 60_000 });
    await firstSync;
    const e2e: number[] = [];
    for (let r = 1 - WARMUP; r <= REPEAT; r++) {
      const i = ((r + WARMUP) * 31337) % N;
      const next = changed(api.current.spec.entries, i, r + WARMUP + 2000);
      const want = next[i]?.realIP;
      const json = api.nextVersionJson(next); // serialised by the API server, not by this process
      const done = new Promise<void>((resolve) => {
        odp.onSync = (o, state) => {
          if (state.maps[4].get(ext(i)) === want && o.kind === 'elements') resolve();
        };
      });
      t0 = performance.now();
      api.deliver(json);
      await done;
      if (r > 0) e2e.push(performance.now() - t0);
      await new Promise((res) => setTimeout(res, 5)); // let the status write of this change go by
    }
    odp.onSync = undefined;
    await op.stop();

    // ---------------------------------------------------------------- iptables, per rule
    await runner.run('iptables', ['-t', 'nat', '-N', 'STRAIT_BENCH'], { netns: ns });
    const lines: string[] = [];
    for (let i = 0; i < N; i++) lines.push(`iptables -t nat -A STRAIT_BENCH -d ${ext(i)}/32 -j DNAT --to-destination ${real(i)}`);
    const script = join(dir, 'iptables.sh');
    writeFileSync(script, `${lines.join('\n')}\n`);
    t0 = performance.now();
    await runner.run('sh', ['-e', script], { netns: ns });
    const iptablesAllMs = ms(t0);
    const iptOne: number[] = [];
    for (let r = 1; r <= IPT_REPEAT; r++) {
      const i = (r * 7919) % N;
      t0 = performance.now();
      await runner.run('iptables', ['-t', 'nat', '-R', 'STRAIT_BENCH', String(i + 1), '-d', `${ext(i)}/32`, '-j', 'DNAT', '--to-destination', real(i, r)], { netns: ns });
      iptOne.push(performance.now() - t0);
    }
    const restore = ['*nat', ':STRAIT_BENCH2 - [0:0]', ...lines.map((l) => l.replace('iptables -t nat -A STRAIT_BENCH', '-A STRAIT_BENCH2')), 'COMMIT', ''].join('\n');
    t0 = performance.now();
    await runner.run('iptables-restore', ['--noflush'], { netns: ns, input: restore });
    const iptablesRestoreMs = ms(t0);

    const one = {
      session: stats(oneSession),
      spawn: stats(oneSpawn),
      reconciler: stats(e2e),
      computeOnly: stats(oneCompute),
      bare: stats(bare),
      iptables: stats(iptOne),
    };
    const result = {
      bench: 'nat-scale',
      entries: N,
      repeat: REPEAT,
      iptablesRepeat: IPT_REPEAT,
      cpus: availableParallelism(),
      loadavg1: round(loadavg()[0] ?? 0),
      cpuPressureSomeAvg60: cpuPressure(),
      nft: {
        applyAllMs,
        applyAllComputeMs: computeMs,
        applyAllSyncMs: applySyncMs,
        reapplySameMs,
        restartReadBackMs,
        diffAtNMs: diffMs,
        oneChangeSessionMs: one.session,
        oneChangeSpawnMs: one.spawn,
        oneChangeReconcilerMs: one.reconciler,
        oneChangeComputeMs: one.computeOnly,
        bareSessionTransactionMs: one.bare,
        sessionProcessesStarted: session.starts,
      },
      iptables: { perRuleAllMs: iptablesAllMs, oneRuleChangeMs: one.iptables, restoreAllMs: iptablesRestoreMs },
      ratios: {
        applyAllIptablesPerRuleOverNft: round(iptablesAllMs / applyAllMs),
        applyAllIptablesRestoreOverNft: round(iptablesRestoreMs / applyAllMs),
        oneChangeIptablesOverSession: round(one.iptables.median / one.session.median),
        oneChangeIptablesOverReconciler: round(one.iptables.median / one.reconciler.median),
        oneChangeSpawnOverSession: round(one.spawn.median / one.session.median),
      },
      goals: {
        applyAllMs: { goal: 1000, met: applyAllMs <= 1000 },
        oneChangeMs: { goal: 20, met: one.session.median <= 20 && one.reconciler.median <= 20 },
      },
    };
    if (!JSON_LAST) console.log(JSON.stringify(result));
    const row = (what: string, v: string, iptables: string, ratio: string): string => `| ${what.padEnd(58)} | ${v.padStart(22)} | ${iptables.padStart(24)} | ${ratio.padStart(7)} |`;
    const f = (s: { median: number; p90: number }): string => `${s.median} ms (p90 ${s.p90})`;
    console.log(
      [
        '',
        `NAT mapping scale: ${N} entries, ${REPEAT} changes (${IPT_REPEAT} for iptables), ${result.cpus} CPUs, load ${result.loadavg1}, CPU pressure ${String(result.cpuPressureSomeAvg60)} %`,
        row('what', 'Strait (nft map)', 'iptables per rule', 'ratio'),
        row('---', '---', '---', '---'),
        row(`apply ${N} entries (compute + read back + 1 transaction)`, `${applyAllMs} ms`, `${iptablesAllMs} ms`, `${result.ratios.applyAllIptablesPerRuleOverNft}x`),
        row(`  iptables-restore of ${N} rules (reference)`, '', `${iptablesRestoreMs} ms`, `${result.ratios.applyAllIptablesRestoreOverNft}x`),
        row(`one change at ${N}: apply path, nft -i session`, f(one.session), f(one.iptables), `${result.ratios.oneChangeIptablesOverSession}x`),
        row(`one change at ${N}: reconciler, watch event → kernel`, f(one.reconciler), f(one.iptables), `${result.ratios.oneChangeIptablesOverReconciler}x`),
        row(`one change at ${N}: apply path, one nft -f process`, f(one.spawn), '', ''),
        row(`  of which computeNatState over all ${N} entries`, f(one.computeOnly), '', ''),
        row(`  diff of two states at ${N}`, `${diffMs} ms`, '', ''),
        row('  the transaction alone through nft -i (1 delete + 1 add)', f(one.bare), '', ''),
        row('re-apply of the same state (compute + diff, nothing written)', `${reapplySameMs} ms`, '', ''),
        row('restart: read back and diff, zero writes', `${restartReadBackMs} ms`, '', ''),
        '',
        `goals: ${N} entries ≤ 1000 ms: ${result.goals.applyAllMs.met ? 'met' : 'MISSED'}; one change ≤ 20 ms: ${result.goals.oneChangeMs.met ? 'met' : 'MISSED'}`,
      ].join('\n'),
    );
    if (JSON_LAST) console.log(JSON.stringify(result));
  } finally {
    for (const s of sessions) await s.close().catch(() => undefined);
    await netns.delete(ns).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
