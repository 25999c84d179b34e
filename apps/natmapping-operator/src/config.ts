import { clusterOptions, defineConfig, kubeOptions, natsCheck, natsOptions, netnsOptions, nodeOptions, opt, serviceOptions } from '@strait/runtime';

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
    verifyInterval: opt.duration({
      description: 'how often the NAT table is read back from the kernel and repaired if someone changed it (changes themselves are applied at once)',
      default: '5m',
      min: 1000,
    }),
    nftSession: opt.bool({
      description: 'commit element changes through a long-lived `nft -i` process (sub-millisecond) instead of one `nft -f` process per change',
      default: true,
    }),
  },
  { checks: [natsCheck] },
);
