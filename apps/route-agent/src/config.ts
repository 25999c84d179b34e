import { clusterOptions, defineConfig, kubeOptions, natsCheck, natsOptions, nodeOptions, serviceOptions } from '@strait/runtime';

/** Default port of the /livez, /readyz and /metrics server. */
export const DEFAULT_PROBE_PORT = 9104;

/** Configuration of route-agent (flags `--x`, environment `STRAIT_X`; see `--help`). */
export const configSpec = defineConfig(
  {
    ...serviceOptions({ probePort: DEFAULT_PROBE_PORT }),
    ...kubeOptions(),
    ...clusterOptions(),
    ...nodeOptions(),
    ...natsOptions(),
  },
  { checks: [natsCheck] },
);
