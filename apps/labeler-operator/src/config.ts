import { hostname } from 'node:os';
import { GATEWAY_LEASE_NAME, GATEWAY_POD_SELECTOR } from '@strait/api';
import {
  clusterOptions,
  defineConfig,
  dns1123Subdomain,
  kubeOptions,
  leaderElectionCheck,
  leaderElectionOptions,
  natsCheck,
  natsOptions,
  opt,
  serviceOptions,
} from '@strait/runtime';
import { labelSelectorProblem } from './label-selector.ts';

/** Default port of the /livez, /readyz and /metrics server. */
export const DEFAULT_PROBE_PORT = 9102;

/** Configuration of labeler-operator (flags `--x`, environment `STRAIT_X`; see `--help`). */
export const configSpec = defineConfig(
  {
    ...serviceOptions({ probePort: DEFAULT_PROBE_PORT }),
    ...kubeOptions(),
    ...clusterOptions(),
    // --lease-name & co.: the labeler's OWN leader election (only the leader writes labels).
    ...leaderElectionOptions({ leaseName: 'strait-labeler' }),
    gatewayLeaseName: opt.string({
      description: 'name of the gateway Lease (in --namespace) whose holder is the active gateway pod',
      default: GATEWAY_LEASE_NAME,
      validate: dns1123Subdomain,
    }),
    gatewaySelector: opt.string({
      description: 'label selector of the gateway pods (in --namespace)',
      default: GATEWAY_POD_SELECTOR,
      validate: labelSelectorProblem,
    }),
    podName: opt.string({
      description: "this replica's identity in the labeler's leader election",
      default: hostname().toLowerCase(),
      defaultText: 'the host name',
      envAliases: ['POD_NAME'],
      validate: dns1123Subdomain,
    }),
    ...natsOptions(),
  },
  { checks: [natsCheck, leaderElectionCheck] },
);
