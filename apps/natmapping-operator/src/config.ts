import { clusterOptions, defineConfig, kubeOptions, natsCheck, natsOptions, netnsOptions, nodeOptions, serviceOptions } from '@strait/runtime';

/** Default port of the /livez, /readyz and /metrics server. */
export const DEFAULT_PROBE_PORT = 9103;

/** Configuration of natmapping-operator (flags `--x`, environment `STRAIT_X`; see `--help`). */
export const configSpec = defineConfig(
  {
    ...serviceOptions({ probePort: DEFAULT_PROBE_PORT }),
    ...kubeOptions(),
    ...clusterOptions(),
    ...nodeOptions(),
    ...netnsOptions(),
    ...natsOptions(),
  },
  { checks: [natsCheck] },
);
