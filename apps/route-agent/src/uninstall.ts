import { execRunner } from '@strait/net';
import { RouteDatapath, kernelPorts } from './datapath.ts';

/**
 * `route-agent uninstall`: removes route-agent's routes (proto 202, main table), the vx-strait link
 * (its address and fdb entries go with it) and the `inet strait_route_mss` table from this node's
 * host namespace, and nothing else. Idempotent; prints one JSON line; exit 0, or 1 on failure.
 * The underlay device's rp_filter, if route-agent loosened it, is left loose (see docs/route-agent.md).
 */
export async function runUninstall(args: readonly string[]): Promise<number> {
  if (args.length > 0 && !(args.length === 1 && (args[0] === '--help' || args[0] === '-h'))) {
    process.stderr.write(`route-agent: uninstall takes no arguments (got ${args.join(' ')})\n`);
    return 2;
  }
  if (args.length === 1) {
    process.stdout.write('usage: route-agent uninstall\n  removes vx-strait, route-agent\'s routes (proto 202) and nft table inet strait_route_mss from this node\n');
    return 0;
  }
  const runner = execRunner({ defaultTimeoutMs: 30_000 });
  const datapath = new RouteDatapath({ ports: kernelPorts(runner), underlayDevice: async () => undefined });
  try {
    const r = await datapath.uninstall();
    process.stdout.write(`${JSON.stringify({ level: 'info', service: 'route-agent', msg: 'uninstalled', ...r })}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`route-agent: uninstall failed: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
