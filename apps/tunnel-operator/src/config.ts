import {
  clusterOptions,
  defineConfig,
  dns1123Subdomain,
  kubeOptions,
  leaderElectionCheck,
  leaderElectionOptions,
  natsCheck,
  natsOptions,
  netnsOptions,
  nodeOptions,
  opt,
  serviceOptions,
} from '@strait/runtime';
import { backendNameProblem, backendsProblem } from './backends.ts';
import { checkVethCidr, cidrProblem, ipProblem } from './layout.ts';

/** Default port of the /livez, /readyz and /metrics server. */
export const DEFAULT_PROBE_PORT = 9101;
/** Secret (in --namespace) holding the cluster's shared gateway key material. */
export const DEFAULT_KEY_SECRET = 'strait-gateway-keys';
/** Link network of the veth pair (host end .1, gateway end .2). */
export const DEFAULT_VETH_CIDR = '169.254.189.0/30';

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
    podName: opt.string({
      description: "this replica's identity in the gateway Lease (the gateway pod's name); default: --node-name",
      envAliases: ['POD_NAME'],
      validate: dns1123Subdomain,
    }),
    keySecret: opt.string({
      description: "Secret in --namespace with the cluster's gateway keys (data: wireguard-private-key, ipsec-psk)",
      default: DEFAULT_KEY_SECRET,
      validate: dns1123Subdomain,
    }),
    podCidrs: opt.list(opt.string({ description: 'CIDR', validate: cidrProblem }), {
      description: "this cluster's pod CIDRs, comma-separated (remap NAT sources, IPsec traffic selectors)",
    }),
    endpointIp: opt.string({
      description: "this gateway node's underlay address that the peers reach (written to the cluster's Endpoint); unset: no Endpoint is written",
      validate: ipProblem,
    }),
    healthCheckIp: opt.string({
      description: "this gateway's in-tunnel health-check address, inside --pod-cidrs (assigned in the gateway namespace; the peers probe it, and it is the source of this gateway's probes)",
      validate: ipProblem,
    }),
    vethCidr: opt.string({
      description: 'link network of the veth pair strait.host/strait.gateway (a /30 or /31; host end first address)',
      default: DEFAULT_VETH_CIDR,
      validate: checkVethCidr,
    }),
    stateDir: opt.string({
      description: "private directory of the tunnel daemons' sockets, pid files and logs",
      default: '/var/lib/strait/gateway',
      pattern: /^\/[^\0]*$/,
      patternHint: 'must be an absolute path',
    }),
    wireguardPort: opt.int({ description: 'UDP port of the WireGuard link', default: 51820, min: 1, max: 65535 }),
    wireguardImplementation: opt.enum(['auto', 'kernel', 'wireguard-go', 'boringtun'] as const, {
      description: 'WireGuard implementation (auto: kernel, else wireguard-go, else boringtun)',
      default: 'auto',
    }),
    backends: opt.list(opt.string({ description: 'cable driver', validate: backendNameProblem }), {
      description:
        "cable drivers this gateway offers in the cluster's Endpoint, the preferred one first (wireguard, ipsec, vxlan); each pair of clusters uses one both offer. VXLAN is unencrypted: offer it deliberately",
      default: ['wireguard'],
    }),
    forwardUdpPorts: opt.list(opt.int({ description: 'UDP port', min: 1, max: 65535 }), {
      description: "UDP ports addressed to the node that are forwarded into the gateway namespace (tunnel traffic); default: the WireGuard port, 500, 4500, and the VXLAN port 4789 when --backends offers vxlan",
    }),
    statusInterval: opt.duration({ description: 'how often tunnel status, Gateway status and metrics are refreshed', default: '2s', min: 100 }),
  },
  { checks: [natsCheck, leaderElectionCheck, (v) => backendsProblem(v.backends)] },
);

