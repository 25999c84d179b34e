import type { LabState, ServiceState } from './state.ts';

export interface ServiceHealth extends ServiceState {
  running: boolean;
  ready: boolean;
}

export interface LabStatusReport {
  state: LabState;
  daemonRunning: boolean;
  services: ServiceHealth[];
}

/** Renders rows as an aligned text table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function renderStatus(r: LabStatusReport): string {
  const s = r.state;
  const out: string[] = [];
  const phase = r.daemonRunning ? s.phase : `${s.phase} (owner process not running)`;
  out.push(`Lab: ${phase}, started ${s.startedAt}${s.readyAt ? `, ready ${s.readyAt}` : ''}`);
  if (s.error) out.push(`Error: ${s.error.split('\n')[0]}`);
  out.push('');
  out.push(
    table(
      ['CLUSTER', 'ROLE', 'API SERVER', 'KUBECONFIG'],
      s.clusters.map((c) => [c.name, c.role, c.server, c.kubeconfig]),
    ),
  );
  if (s.nats) out.push(`NATS: ${s.nats.url} (user ${s.nats.user}, password in ${s.nats.passwordFile})\n`);
  if (r.services.length > 0) {
    out.push(
      table(
        ['CLUSTER', 'SERVICE', 'PID', 'STATE', 'METRICS'],
        r.services.map((v) => [v.cluster, v.name, String(v.pid ?? '-'), v.ready ? 'ready' : v.running ? 'not ready' : 'stopped', `${v.probe}/metrics`]),
      ),
    );
  }
  return out.join('\n');
}
