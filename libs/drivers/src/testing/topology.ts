import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/**
 * A throw-away test network made of namespaces (for netns tests and the benchmark):
 *
 *   pod-X ── gw-X ──┐
 *   pod-Y ── gw-Y ──┼── wan (bridge)
 *   pod-Z ── gw-Z ──┘
 *
 * Every name carries a random per-run prefix; `destroy()` kills whatever still runs in the namespaces
 * (daemons a failed test left behind) and deletes them. All addresses live only inside these namespaces.
 */
export interface GatewayNode {
  readonly key: string;
  readonly clusterId: string;
  /** Gateway namespace. */
  readonly netns: string;
  /** Gateway's underlay (WAN) address. */
  readonly wanIp: string;
  /** The gateway's address on the pod side (inside `subnet`): the health-check IP. */
  readonly podSideIp: string;
  /** The "pod" namespace behind the gateway and its address. */
  readonly podNetns: string;
  readonly podIp: string;
  readonly subnet: string;
  /** Private state directory for the gateway's daemons. */
  readonly stateDir: string;
}

export interface Topology {
  readonly prefix: string;
  readonly wanNetns: string;
  readonly gateways: readonly GatewayNode[];
  readonly dir: string;
  gw(key: string): GatewayNode;
  /** Runs a command in a namespace; resolves with stdout. */
  exec(netns: string, cmd: string, args: string[], timeoutMs?: number): Promise<string>;
  destroy(): Promise<void>;
}

export async function sh(cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  const { stdout } = await exec(cmd, args, { timeout: timeoutMs, env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export async function nsExec(netns: string, cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return sh('ip', ['netns', 'exec', netns, cmd, ...args], timeoutMs);
}

/** Kills every process in the namespace (leftovers of a failed test) and deletes it. */
export async function deleteNetns(netns: string): Promise<void> {
  try {
    const pids = (await sh('ip', ['netns', 'pids', netns])).split('\n').filter(Boolean).map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  } catch {
    // namespace already gone
  }
  await sh('ip', ['netns', 'del', netns]).catch(() => undefined);
}

export interface TopologyOptions {
  /** Gateway keys, default ['a', 'b']. */
  readonly gateways?: readonly string[];
  /** WAN MTU, default 1500. */
  readonly wanMtu?: number;
}

export async function createTopology(opts: TopologyOptions = {}): Promise<Topology> {
  const prefix = `st${randomBytes(3).toString('hex')}`;
  const keys = opts.gateways ?? ['a', 'b'];
  const wanMtu = opts.wanMtu ?? 1500;
  const dir = mkdtempSync(join(tmpdir(), `strait-${prefix}-`));
  const created: string[] = [];
  const wanNetns = `${prefix}-wan`;
  const gateways: GatewayNode[] = keys.map((key, i) => ({
    key,
    clusterId: `cluster-${key}`,
    netns: `${prefix}-gw${key}`,
    wanIp: `192.168.250.${i + 1}`,
    podSideIp: `10.${i + 1}.0.1`,
    podNetns: `${prefix}-pod${key}`,
    podIp: `10.${i + 1}.0.2`,
    subnet: `10.${i + 1}.0.0/24`,
    stateDir: join(dir, `gw${key}`),
  }));
  const destroy = async (): Promise<void> => {
    for (const ns of [...created].reverse()) await deleteNetns(ns);
    rmSync(dir, { recursive: true, force: true });
  };
  const ip = (ns: string, ...args: string[]) => sh('ip', ['-n', ns, ...args]);
  try {
    for (const ns of [wanNetns, ...gateways.flatMap((g) => [g.netns, g.podNetns])]) {
      await sh('ip', ['netns', 'add', ns]);
      created.push(ns);
      // No IPv6 duplicate address detection: link-local addresses (and their routes) exist at once, so
      // kernel snapshots taken right after set-up are stable.
      await nsExec(ns, 'sysctl', ['-qw', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0']);
      await ip(ns, 'link', 'set', 'lo', 'up');
    }
    await ip(wanNetns, 'link', 'add', 'br0', 'mtu', String(wanMtu), 'type', 'bridge');
    await ip(wanNetns, 'link', 'set', 'br0', 'up');
    for (const [i, g] of gateways.entries()) {
      await sh('ip', ['link', 'add', `${prefix}w${i}`, 'netns', g.netns, 'mtu', String(wanMtu), 'type', 'veth', 'peer', 'name', `${prefix}b${i}`, 'netns', wanNetns, 'mtu', String(wanMtu)]);
      await ip(g.netns, 'link', 'set', `${prefix}w${i}`, 'name', 'wan0');
      await ip(g.netns, 'addr', 'add', `${g.wanIp}/24`, 'dev', 'wan0');
      await ip(g.netns, 'link', 'set', 'wan0', 'up');
      await ip(wanNetns, 'link', 'set', `${prefix}b${i}`, 'master', 'br0', 'up');
      await sh('ip', ['link', 'add', `${prefix}p${i}`, 'netns', g.podNetns, 'type', 'veth', 'peer', 'name', `${prefix}g${i}`, 'netns', g.netns]);
      await ip(g.podNetns, 'link', 'set', `${prefix}p${i}`, 'name', 'eth0');
      await ip(g.netns, 'link', 'set', `${prefix}g${i}`, 'name', 'pods0');
      await ip(g.podNetns, 'addr', 'add', `${g.podIp}/24`, 'dev', 'eth0');
      await ip(g.netns, 'addr', 'add', `${g.podSideIp}/24`, 'dev', 'pods0');
      await ip(g.podNetns, 'link', 'set', 'eth0', 'up');
      await ip(g.netns, 'link', 'set', 'pods0', 'up');
      await ip(g.podNetns, 'route', 'add', 'default', 'via', g.podSideIp);
      await nsExec(g.netns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    prefix,
    wanNetns,
    gateways,
    dir,
    gw(key) {
      const g = gateways.find((x) => x.key === key);
      if (!g) throw new Error(`no gateway ${key}`);
      return g;
    },
    exec: (netns, cmd, args, timeoutMs) => nsExec(netns, cmd, args, timeoutMs),
    destroy,
  };
}

/** `ping -c N` from a namespace; resolves with the loss ratio and RTT summary. */
export async function ping(netns: string, target: string, opts: { count?: number; intervalS?: number; size?: number; source?: string } = {}) {
  const args = ['-n', '-q', '-c', String(opts.count ?? 3), '-i', String(opts.intervalS ?? 0.2), '-W', '1'];
  if (opts.size) args.push('-s', String(opts.size), '-M', 'do');
  if (opts.source) args.push('-I', opts.source);
  args.push(target);
  let out: string;
  try {
    out = await nsExec(netns, 'ping', args, 120_000);
  } catch (err) {
    out = String((err as { stdout?: string }).stdout ?? '');
  }
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  const sent = Number(m?.[1] ?? 0);
  const received = Number(m?.[2] ?? 0);
  return { sent, received, loss: sent ? (sent - received) / sent : 1, output: out };
}

/** Polls `fn` until it returns true or the deadline passes. */
export async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 20_000, stepMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      if (await fn()) return;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
}

export interface KernelSnapshot {
  readonly links: string[];
  readonly addresses: string[];
  readonly routes: string[];
  readonly rules: string[];
  readonly nftTables: string[];
  readonly processes: number;
}

/** What a namespace holds, in comparable text form (ifindex-free), to prove "nothing else changed". */
export async function snapshot(netns: string): Promise<KernelSnapshot> {
  const j = async (args: string[]) => JSON.parse((await sh('ip', ['-n', netns, '-j', ...args])) || '[]') as Record<string, unknown>[];
  const links = (await j(['-d', 'link', 'show'])).map((l) => `${l['ifname']} ${(l['linkinfo'] as { info_kind?: string } | undefined)?.info_kind ?? ''} ${l['ifalias'] ?? ''} mtu=${l['mtu']}`).sort();
  const addresses = (await j(['addr', 'show'])).flatMap((l) => ((l['addr_info'] as { local: string; prefixlen: number }[]) ?? []).map((a) => `${l['ifname']} ${a.local}/${a.prefixlen}`)).sort();
  const routes = [...(await j(['-4', 'route', 'show', 'table', 'all'])), ...(await j(['-6', 'route', 'show', 'table', 'all']))]
    .map((r) => `${r['table'] ?? 'main'} ${r['type'] ?? ''} ${r['dst']} ${r['dev'] ?? ''} ${r['gateway'] ?? ''} ${r['protocol'] ?? ''}`)
    .sort();
  const rules = (await j(['rule', 'show'])).map((r) => `${r['priority']} ${r['src'] ?? 'all'} ${r['table']}`).sort();
  const nftTables = (await nsExec(netns, 'nft', ['list', 'tables'])).split('\n').filter(Boolean).sort();
  const processes = (await sh('ip', ['netns', 'pids', netns])).split('\n').filter(Boolean).length;
  return { links, addresses, routes, rules, nftTables, processes };
}
