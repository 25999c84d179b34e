import { packageVersion, runService } from '@strait/runtime';
import { configSpec } from './config.ts';

const argv = process.argv.slice(2);
if (argv[0] === 'uninstall') {
  // One-shot: remove everything route-agent created on this node (run after the DaemonSet is gone).
  process.exitCode = await (await import('./uninstall.ts')).runUninstall(argv.slice(1));
} else {
  await runService({
    name: 'route-agent',
    version: packageVersion(new URL('../package.json', import.meta.url)),
    summary:
      'Strait route agent: on every node, routes cross-cluster traffic to the active gateway (through the vx-strait overlay) and re-points on failover. `route-agent uninstall` removes what it created on the node.',
    configSpec,
    // The heavy wiring (Kubernetes client, kernel ports) loads only once the flags are valid.
    start: async (ctx) => (await import('./start.ts')).startRouteAgent(ctx),
  });
}
