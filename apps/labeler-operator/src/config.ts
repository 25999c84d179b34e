import { clusterOptions, defineConfig, kubeOptions, leaderElectionCheck, leaderElectionOptions, natsCheck, natsOptions, serviceOptions } from '@strait/runtime';

/** Default port of the /livez, /readyz and /metrics server. */
export const DEFAULT_PROBE_PORT = 9102;

/** Configuration of labeler-operator (flags `--x`, environment `STRAIT_X`; see `--help`). */
export const configSpec = defineConfig(
  {
    ...serviceOptions({ probePort: DEFAULT_PROBE_PORT }),
    ...kubeOptions(),
    ...clusterOptions(),
    ...leaderElectionOptions({ leaseName: 'strait-labeler' }),
    ...natsOptions(),
  },
  { checks: [natsCheck, leaderElectionCheck] },
);
