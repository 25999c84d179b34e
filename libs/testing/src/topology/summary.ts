import type { TopologyPlan } from './types.ts';

/**
 * A plain-text table of a topology (one line per node, pod and external host) for logs, the lab's
 * status output and debugging:
 *
 *   cluster a  pods 10.0.0.0/16  nodes 192.168.1.0/24
 *     a-g1     gateway  192.168.1.1  wan 172.31.0.1  pods 10.0.0.0/24  netns t1234-a-g1
 *       a-g1-p1         10.0.0.2                                        netns t1234-a-g1-p1
 */
export function topologySummary(plan: TopologyPlan): string {
  const lines = [`topology ${plan.runId}  wan ${plan.wan.cidr}  netns ${plan.wan.netns}`];
  const rows: string[][] = [];
  for (const c of plan.clusters) {
    lines.push(...flush(rows));
    lines.push(`cluster ${c.name}  pods ${c.podCIDR}  nodes ${c.nodeCIDR}${c.externalCIDR ? `  external ${c.externalCIDR}` : ''}  switch ${c.switchNetns}`);
    for (const n of c.nodes) {
      rows.push([`  ${n.name}`, n.role, n.ip, n.wan ? `wan ${n.wan.ip}` : '', `pods ${n.podCIDR}`, `netns ${n.netns}`]);
      for (const p of n.pods) rows.push([`    ${p.name}`, 'pod', p.ip, '', '', `netns ${p.netns}`]);
    }
    for (const h of c.externalHosts) rows.push([`  ${h.name}`, 'external', h.ip, '', '', `netns ${h.netns}`]);
  }
  lines.push(...flush(rows));
  return lines.join('\n');
}

function flush(rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const out = rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  rows.length = 0;
  return out;
}
