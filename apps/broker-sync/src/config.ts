import { hostname } from 'node:os';
import { DEFAULT_REMAP_POOL, formatCIDR, isMaskedCIDR, maskedPrefix, parseCIDR } from '@strait/api';
import {
  clusterOptions,
  defineConfig,
  dns1123Label,
  dns1123Subdomain,
  formatDuration,
  kubeOptions,
  leaderElectionCheck,
  leaderElectionOptions,
  natsCheck,
  natsOptions,
  opt,
  serviceOptions,
} from '@strait/runtime';

/** Where the Broker is: its own cluster (a kubeconfig) or, when unset, a namespace of this cluster. */
function brokerOptions() {
  return {
    brokerKubeconfig: opt.path({ description: "kubeconfig of the Broker's API server (this cluster's member identity there)", mustExist: 'file', defaultText: 'the local cluster' }),
    brokerNamespace: opt.string({ description: 'namespace of the Broker holding Cluster and Endpoint objects', default: 'strait-broker', validate: dns1123Label }),
  };
}

export function cidrProblem(v: string): string | undefined {
  const p = parseCIDR(v);
  if (!p) return 'is not a CIDR';
  if (!isMaskedCIDR(v)) return `has host bits set; the network is ${formatCIDR(maskedPrefix(p))}`;
  return undefined;
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
    podName: opt.string({
      description: "this replica's identity in broker-sync's leader election",
      default: hostname().toLowerCase(),
      defaultText: 'the host name',
      envAliases: ['POD_NAME'],
      validate: dns1123Subdomain,
    }),
    podCidrs: opt.list(opt.string({ description: 'CIDR', validate: cidrProblem }), {
      description: "this cluster's pod CIDRs, comma-separated: the local Cluster is written from --pod-cidrs, --service-cidrs and --external-cidr (unset: the local Cluster must exist)",
    }),
    serviceCidrs: opt.list(opt.string({ description: 'CIDR', validate: cidrProblem }), { description: "this cluster's service CIDRs, comma-separated (with --pod-cidrs)" }),
    externalCidr: opt.string({ description: "this cluster's external CIDR offered to the peers through NatMappings (with --pod-cidrs)", validate: cidrProblem }),
    remapPool: opt.list(opt.string({ description: 'CIDR', validate: cidrProblem }), {
      description: 'pool(s) of remapped CIDRs under which conflicting remote pod CIDRs are addressed, comma-separated',
      default: [DEFAULT_REMAP_POOL],
    }),
    heartbeatInterval: opt.duration({ description: "how often this cluster's heartbeat on the Broker is renewed (and every peer re-checked)", default: '30s', min: 100 }),
    staleAfter: opt.duration({ description: 'a remote cluster without a heartbeat for this long is treated as gone (0: never)', default: '5m' }),
  },
  {
    checks: [
      natsCheck,
      leaderElectionCheck,
      (v) => {
        if ((v.podCidrs.length > 0) !== (v.serviceCidrs.length > 0)) return '--pod-cidrs and --service-cidrs go together';
        if (v.externalCidr !== undefined && v.podCidrs.length === 0) return '--external-cidr needs --pod-cidrs and --service-cidrs';
        return undefined;
      },
      (v) =>
        v.brokerKubeconfig === undefined && v.brokerNamespace === v.namespace
          ? `--broker-namespace must differ from --namespace (${v.namespace}) when the Broker is the local cluster`
          : undefined,
      (v) =>
        v.staleAfter > 0 && v.staleAfter < 2 * v.heartbeatInterval
          ? `--stale-after (${formatDuration(v.staleAfter)}) must be 0 or at least twice --heartbeat-interval (${formatDuration(v.heartbeatInterval)})`
          : undefined,
    ],
  },
);
