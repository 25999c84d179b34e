import type { ClusterView } from './cluster-view.ts';
import type { LabState, ServiceState } from './state.ts';

export interface ServiceHealth extends ServiceState {
  running: boolean;
  ready: boolean;
}

export interface LabStatusReport {
  state: LabState;
  daemonRunning: boolean;
  services: ServiceHealth[];
  /** Active/standby gateways and tunnels of every member cluster (absent when not read). */
  views?: ClusterView[];
}

/** Renders rows as an aligned text table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function renderStatus(r: LabStatusReport): string {
  const s = r.state;
  const o = s.options;
  const out: string[] = [];
  const phase = r.daemonRunning ? s.phase : `${s.phase} (owner process not running)`;
  out.push(`Lab: ${phase}, started ${s.startedAt}${s.readyAt ? `, ready ${s.readyAt}` : ''}`);
  out.push(
    `Options: ${o.clusters} clusters, driver ${o.driver ?? 'wireguard'}, ${o.gateways ?? '?'} gateways + ${o.workers ?? '?'} workers per cluster${o.overlap ? ', overlapping pod CIDRs' : ''}`,
  );
  if (s.error) out.push(`Error: ${s.error.split('\n')[0]}`);
  out.push('');
  out.push(
    table(
      ['CLUSTER', 'ROLE', 'POD CIDR', 'API SERVER', 'KUBECONFIG'],
      s.clusters.map((c) => [c.name, c.role, c.podCidr ?? '-', c.server, c.kubeconfig]),
    ),
  );
  if (s.nats) out.push(`NATS: ${s.nats.url} (user ${s.nats.user}, password in ${s.nats.passwordFile})\n`);
  const views = r.views ?? [];
  if (views.length > 0) {
    out.push(
      table(
        ['CLUSTER', 'GATEWAY NODE', 'POD', 'ROLE'],
        views.flatMap((v) => v.gateways.map((g) => [g.cluster, g.node, g.pod, g.role])),
      ),
    );
    const tunnels = views.flatMap((v) =>
      v.tunnels.map((t) => [t.cluster, t.peer, t.backend, t.endpoint, t.phase, t.rttMs === undefined ? '-' : `${t.rttMs.toFixed(2)} ms`, t.peerCidr === t.peerPodCidr ? (t.peerCidr ?? '-') : `${t.peerCidr} (remap of ${t.peerPodCidr})`]),
    );
    out.push(tunnels.length > 0 ? table(['CLUSTER', 'PEER', 'DRIVER', 'ENDPOINT', 'STATE', 'RTT', 'PEER PODS AS'], tunnels) : 'Tunnels: none yet\n');
    for (const v of views.filter((x) => x.error)) out.push(`${v.cluster}: cannot read the API server: ${v.error}\n`);
  }
  if (r.services.length > 0) {
    out.push(
      table(
        ['CLUSTER', 'SERVICE', 'NODE', 'PID', 'STATE', 'RESTARTS', 'METRICS'],
        r.services.map((v) => [
          v.cluster,
          v.name,
          v.node ?? '-',
          String(v.pid ?? '-'),
          v.held ? 'held' : v.ready ? 'ready' : v.running ? 'not ready' : 'stopped',
          String(v.restarts ?? 0),
          `${v.probe}/metrics`,
        ]),
      ),
    );
  }
  return out.join('\n');
}
