import { clusterOptions, defineConfig, kubeOptions, leaderElectionCheck, leaderElectionOptions, natsCheck, natsOptions, netnsOptions, nodeOptions, serviceOptions } from '@strait/runtime';

/** Default port of the /livez, /readyz and /metrics server. */
export const DEFAULT_PROBE_PORT = 9101;

/** Configuration of tunnel-operator (flags `--x`, environment `STRAIT_X`; see `--help`). */
export const configSpec = defineConfig(
  {
    ...serviceOptions({ probePort: DEFAULT_PROBE_PORT }),
    ...kubeOptions(),
    ...clusterOptions(),
    ...nodeOptions(),
    ...netnsOptions(),
    ...leaderElectionOptions({ leaseName: 'strait-gateway' }),
    ...natsOptions(),
  },
  { checks: [natsCheck, leaderElectionCheck] },
);
