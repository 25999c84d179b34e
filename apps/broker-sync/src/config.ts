import { clusterOptions, defineConfig, dns1123Label, kubeOptions, leaderElectionCheck, leaderElectionOptions, natsCheck, natsOptions, opt, serviceOptions } from '@strait/runtime';

/** Where the Broker is: its own cluster (a kubeconfig) or, when unset, a namespace of this cluster. */
function brokerOptions() {
  return {
    brokerKubeconfig: opt.path({ description: "kubeconfig of the Broker's API server", mustExist: 'file', defaultText: 'the local cluster' }),
    brokerNamespace: opt.string({ description: 'namespace of the Broker holding Cluster and Endpoint objects', default: 'strait-broker', validate: dns1123Label }),
  };
}

/** Default port of the /livez, /readyz and /metrics server. */
export const DEFAULT_PROBE_PORT = 9105;

/** Configuration of broker-sync (flags `--x`, environment `STRAIT_X`; see `--help`). */
export const configSpec = defineConfig(
  {
    ...serviceOptions({ probePort: DEFAULT_PROBE_PORT }),
    ...kubeOptions(),
    ...clusterOptions(),
    ...brokerOptions(),
    ...leaderElectionOptions({ leaseName: 'strait-broker-sync' }),
    ...natsOptions(),
  },
  { checks: [natsCheck, leaderElectionCheck] },
);
