import { execFile } from 'node:child_process';
import { translate, type ClusterView } from './cluster-view.ts';
import type { LabPodState, LabState } from './state.ts';

export interface PodProbe {
  from: string;
  to: string;
  source: LabPodState;
  target: LabPodState;
  /** The target's address as the source cluster addresses it (remapped under overlapping pod CIDRs); undefined when the source has no TunnelEndpoint to the target's cluster. */
  address: string | undefined;
}

export interface ProbeResult extends PodProbe {
  ok: boolean;
  /** Average RTT of the replies. */
  rttMs: number | undefined;
  lost: number;
  sent: number;
  detail: string;
}

/** A pod on a worker node when there is one (its packets cross the node network to the gateway), else the first pod. */
function representative(state: LabState, cluster: string): LabPodState | undefined {
  const pods = state.pods.filter((p) => p.cluster === cluster);
  const workers = new Set(state.nodes.filter((n) => n.cluster === cluster && n.role === 'worker').map((n) => n.name));
  return pods.find((p) => workers.has(p.node)) ?? pods[0];
}

/** One probe per ordered pair of member clusters: a pod of `from` to a pod of `to`, at the address `from` knows it by. */
export function planProbes(state: LabState, views: readonly ClusterView[]): PodProbe[] {
  const members = state.clusters.filter((c) => c.role === 'member').map((c) => c.name);
  const out: PodProbe[] = [];
  for (const from of members) {
    for (const to of members) {
      if (from === to) continue;
      const source = representative(state, from);
      const target = representative(state, to);
      if (!source || !target) continue;
      const tunnel = views.find((v) => v.cluster === from)?.tunnels.find((t) => t.peer === to);
      const address = tunnel?.peerCidr && tunnel.peerPodCidr ? translate(target.ip, tunnel.peerPodCidr, tunnel.peerCidr) : undefined;
      out.push({ from, to, source, target, address });
    }
  }
  return out;
}

/** Parses `ping` output: packets sent/received and the average RTT. */
export function parsePing(text: string): { sent: number; received: number; avgMs: number | undefined } {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(text);
  const rtt = /= [\d.]+\/([\d.]+)\/[\d.]+/.exec(text);
  return { sent: m ? Number(m[1]) : 0, received: m ? Number(m[2]) : 0, avgMs: rtt ? Number(rtt[1]) : undefined };
}

/** Pings from the source pod's namespace (3 packets, 1 s each at most); ok when at least one reply came. */
export async function runProbe(p: PodProbe, count = 3): Promise<ProbeResult> {
  if (!p.address) return { ...p, ok: false, rttMs: undefined, lost: 0, sent: 0, detail: `${p.from} has no TunnelEndpoint to ${p.to}` };
  const text = await new Promise<string>((resolve) => {
    execFile('ip', ['netns', 'exec', p.source.netns, 'ping', '-n', '-c', String(count), '-i', '0.2', '-W', '1', p.address!], { timeout: 15_000 }, (_err, stdout, stderr) =>
      resolve(`${stdout}${stderr}`),
    );
  });
  const r = parsePing(text);
  const ok = r.received > 0;
  return { ...p, ok, rttMs: r.avgMs, lost: r.sent - r.received, sent: r.sent, detail: ok ? `${r.received}/${r.sent} replies` : (text.trim().split('\n').pop() ?? 'no reply') };
}
