/**
 * Throughput through each cable driver, next to the same tunnel configured by hand with the plain tools.
 *
 *   npx node libs/drivers/bench/throughput.bench.ts [--seconds 5] [--runs 3] [--drivers wireguard,ipsec,vxlan] [--json]
 *
 * For every driver: a fresh pair of gateway namespaces joined by a WAN bridge, a pod namespace behind each,
 * iperf3 from pod A to pod B. First through Strait's driver (MTU, MSS clamp, routes, health probes running),
 * then, after Strait cleaned up, through the same technology set up by hand (wireguard-go + wg; charon +
 * swanctl with kernel-libipsec; ip link vxlan with a transit /30). Prints one JSON line per run and a table
 * with the median of each and the ratio Strait / by hand. Root required; traffic stays in the namespaces.
 * --json: after the table, one line with the summary and every run, the last line of stdout (for `straitctl bench`).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { findCharonBinary, generateKeyPair } from '@strait/net';
import { IpsecDriver } from '../src/ipsec/driver.ts';
import { gatewayContext, peerSpec, testKeys, type TestKeys } from '../src/testing/gateways.ts';
import { createTopology, nsExec, sh, waitFor, type GatewayNode, type Topology } from '../src/testing/topology.ts';
import type { Backend, CableDriver } from '../src/types.ts';
import { VxlanDriver } from '../src/vxlan/driver.ts';
import { WireGuardDriver } from '../src/wireguard/driver.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    runs: { type: 'string', default: '3' },
    drivers: { type: 'string', default: 'wireguard,ipsec,vxlan' },
    json: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const DRIVERS = values.drivers!.split(',') as Backend[];

interface Measurement {
  driver: Backend;
  setup: 'strait' | 'by-hand';
  run: number;
  gbps: number;
  retransmits: number;
}

/** One iperf3 run pod A → pod B; returns receiver-side Gbit/s (retried when iperf3 itself fails). */
async function iperf(topo: Topology): Promise<{ gbps: number; retransmits: number }> {
  const a = topo.gw('a');
  const b = topo.gw('b');
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const server = spawn('ip', ['netns', 'exec', b.podNetns, 'iperf3', '-s', '-1', '-B', b.podIp], { stdio: 'ignore' });
    try {
      await waitFor('iperf3 server', async () => (await nsExec(b.podNetns, 'ss', ['-ltnH', 'sport', '= :5201'])).includes('5201'), 5_000, 50);
      const out = await nsExec(a.podNetns, 'iperf3', ['-c', b.podIp, '-t', String(SECONDS), '-J'], (SECONDS + 30) * 1000).catch((e: { stdout?: string }) => e.stdout ?? '{}');
      const json = JSON.parse(out) as { error?: string; end?: { sum_received?: { bits_per_second: number }; sum_sent?: { retransmits?: number } } };
      if (json.end?.sum_received) return { gbps: json.end.sum_received.bits_per_second / 1e9, retransmits: json.end.sum_sent?.retransmits ?? 0 };
      lastError = json.error ?? 'no result';
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
      await sleep(200);
    }
  }
  throw new Error(`iperf3 failed 3 times: ${lastError}`);
}

function makeDriver(backend: Backend, g: GatewayNode, keys: TestKeys): CableDriver {
  const ctx = gatewayContext(g, { health: { intervalMs: 1000, window: 30, failAfter: 5 } });
  if (backend === 'wireguard') return new WireGuardDriver(ctx, { privateKey: keys.wireguard[g.key]!.privateKey });
  if (backend === 'ipsec') return new IpsecDriver(ctx);
  return new VxlanDriver(ctx);
}

async function viaStrait(backend: Backend, topo: Topology, keys: TestKeys): Promise<() => Promise<void>> {
  const a = topo.gw('a');
  const b = topo.gw('b');
  const da = makeDriver(backend, a, keys);
  const db = makeDriver(backend, b, keys);
  await Promise.all([da.connect(peerSpec(backend, a, b, keys)), db.connect(peerSpec(backend, b, a, keys))]);
  await waitFor(`${backend} Connected`, async () => (await da.status(b.clusterId)).state === 'Connected' && (await db.status(a.clusterId)).state === 'Connected', 30_000);
  return async () => {
    await da.cleanup();
    await db.cleanup();
  };
}

/** The same tunnel by hand, the way an operator would type it. */
async function byHand(backend: Backend, topo: Topology): Promise<() => Promise<void>> {
  const gws = [topo.gw('a'), topo.gw('b')] as const;
  const undo: (() => Promise<void>)[] = [];
  if (backend === 'wireguard') {
    const keys = gws.map(() => generateKeyPair());
    for (const [i, g] of gws.entries()) {
      const other = gws[1 - i]!;
      const dir = join(topo.dir, `hand-wg-${g.key}`);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(join(dir, 'key'), keys[i]!.privateKey, { mode: 0o600 });
      // wireguard-go daemonises by itself; its socket directory is shared, so the interface names differ.
      const ifname = `hwg${topo.prefix.slice(2, 6)}${g.key}`;
      await nsExec(g.netns, 'wireguard-go', [ifname]);
      await nsExec(g.netns, 'wg', ['set', ifname, 'private-key', join(dir, 'key'), 'listen-port', '51820', 'peer', keys[1 - i]!.publicKey, 'endpoint', `${other.wanIp}:51820`, 'allowed-ips', other.subnet]);
      await sh('ip', ['-n', g.netns, 'link', 'set', ifname, 'up']);
      await sh('ip', ['-n', g.netns, 'route', 'add', other.subnet, 'dev', ifname]);
      undo.push(async () => {
        await sh('ip', ['-n', g.netns, 'link', 'del', ifname]).catch(() => undefined);
      });
    }
  } else if (backend === 'ipsec') {
    const charon = findCharonBinary()!;
    for (const [i, g] of gws.entries()) {
      const other = gws[1 - i]!;
      const dir = join(topo.dir, `hand-ipsec-${g.key}`);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(
        join(dir, 'strongswan.conf'),
        'charon {\n load_modular = no\n load = random nonce openssl kdf kernel-libipsec kernel-netlink socket-default vici\n plugins {\n  vici {\n   socket = unix:///run/charon.vici\n  }\n }\n}\n',
      );
      writeFileSync(
        join(dir, 'swanctl.conf'),
        `connections {\n gw {\n  remote_addrs = ${other.wanIp}\n  encap = yes\n  local {\n   auth = psk\n   id = ${g.clusterId}\n  }\n  remote {\n   auth = psk\n   id = ${other.clusterId}\n  }\n  children {\n   gw {\n    local_ts = ${g.subnet}\n    remote_ts = ${other.subnet}\n   }\n  }\n }\n}\nsecrets {\n ike-1 {\n  id-1 = ${g.clusterId}\n  id-2 = ${other.clusterId}\n  secret = hand-configured-psk-0123456789\n }\n}\n`,
        { mode: 0o600 },
      );
      // Two charons on one machine need their own /run (pid file); nothing else is special.
      const child = spawn('ip', ['netns', 'exec', g.netns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" /run && exec "$2"', 'sh', dir, charon], {
        stdio: 'ignore',
        detached: true,
        env: { ...process.env, STRONGSWAN_CONF: '/run/strongswan.conf' },
      });
      child.unref();
      const uri = `unix://${join(dir, 'charon.vici')}`;
      await waitFor('hand charon', async () => (await sh('swanctl', ['--stats', '--uri', uri]).then(() => true)), 15_000, 100);
      await sh('swanctl', ['--load-all', '--noprompt', '--file', join(dir, 'swanctl.conf'), '--uri', uri]);
      undo.push(async () => {
        try {
          process.kill(child.pid!, 'SIGTERM');
        } catch {
          // gone
        }
        await sleep(500);
      });
    }
    await sh('swanctl', ['--initiate', '--child', 'gw', '--uri', `unix://${join(topo.dir, 'hand-ipsec-a', 'charon.vici')}`], 30_000);
  } else {
    for (const [i, g] of gws.entries()) {
      const other = gws[1 - i]!;
      // mtu 1450: without an underlay `dev`, the kernel would default to 1500 and fragment every full packet.
      await sh('ip', ['-n', g.netns, 'link', 'add', 'vx0', 'mtu', '1450', 'type', 'vxlan', 'id', '100', 'local', g.wanIp, 'remote', other.wanIp, 'dstport', '4789']);
      await sh('ip', ['-n', g.netns, 'addr', 'add', `172.31.255.${i + 1}/30`, 'dev', 'vx0']);
      await sh('ip', ['-n', g.netns, 'link', 'set', 'vx0', 'up']);
      await sh('ip', ['-n', g.netns, 'route', 'add', other.subnet, 'via', `172.31.255.${2 - i}`]);
      undo.push(async () => {
        await sh('ip', ['-n', g.netns, 'link', 'del', 'vx0']).catch(() => undefined);
      });
    }
  }
  const a = topo.gw('a');
  const b = topo.gw('b');
  await waitFor(`${backend} by hand passes traffic`, async () => (await nsExec(a.podNetns, 'ping', ['-c', '1', '-W', '1', b.podIp]).then(() => true)), 30_000, 200);
  return async () => {
    for (const u of undo) await u();
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const all: Measurement[] = [];
  for (const backend of DRIVERS) {
    // Two identical networks side by side, one tunnelled by Strait and one by hand; runs alternate between
    // them so that load from anything else on the machine hits both alike.
    const topoS = await createTopology();
    const topoH = await createTopology();
    const keys = testKeys(['a', 'b']);
    const teardowns: (() => Promise<void>)[] = [];
    try {
      teardowns.push(await viaStrait(backend, topoS, keys));
      teardowns.push(await byHand(backend, topoH));
      await iperf(topoS); // warm-up, not counted
      await iperf(topoH);
      for (let run = 1; run <= RUNS; run++) {
        const pair = [['strait', topoS], ['by-hand', topoH]] as const;
        // Alternate which one goes first, so neither always runs on a warmer (or busier) machine.
        for (const [setup, topo] of run % 2 ? pair : [...pair].reverse()) {
          const r = await iperf(topo);
          const m: Measurement = { driver: backend, setup, run, gbps: Math.round(r.gbps * 1000) / 1000, retransmits: r.retransmits };
          all.push(m);
          console.log(JSON.stringify({ bench: 'throughput', ...m }));
        }
      }
    } finally {
      for (const t of teardowns) await t().catch((e: unknown) => console.error(`teardown: ${(e as Error).message}`));
      await topoS.destroy();
      await topoH.destroy();
    }
  }
  const rows = DRIVERS.map((d) => {
    const s = median(all.filter((m) => m.driver === d && m.setup === 'strait').map((m) => m.gbps));
    const h = median(all.filter((m) => m.driver === d && m.setup === 'by-hand').map((m) => m.gbps));
    return { driver: d, straitGbps: s, byHandGbps: h, ratio: Math.round((s / h) * 1000) / 1000 };
  });
  for (const r of rows) console.log(JSON.stringify({ bench: 'throughput-summary', seconds: SECONDS, runs: RUNS, ...r }));
  console.log('');
  console.log(`driver      Strait (Gbit/s)   by hand (Gbit/s)   Strait / by hand   (median of ${RUNS} × ${SECONDS} s iperf3, pod → pod)`);
  for (const r of rows) {
    console.log(`${r.driver.padEnd(10)}  ${r.straitGbps.toFixed(3).padStart(15)}   ${r.byHandGbps.toFixed(3).padStart(16)}   ${(r.ratio * 100).toFixed(1).padStart(15)} %`);
  }
  if (values.json) console.log(JSON.stringify({ bench: 'throughput', seconds: SECONDS, runs: RUNS, drivers: rows, measurements: all }));
}

await main();
