import {
  clusterOptions,
  defineConfig,
  dns1123Subdomain,
  kubeOptions,
  natsCheck,
  natsOptions,
  nodeOptions,
  opt,
  serviceOptions,
} from '@strait/runtime';
import { overlayCidrProblem } from './overlay.ts';

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
    leaseName: opt.string({
      description: "the gateway Lease of tunnel-operator (its --lease-name); its holder is the active gateway",
      default: 'strait-gateway',
      validate: dns1123Subdomain,
    }),
    nodeIp: opt.string({
      description: "this node's address on the node network (the VXLAN underlay); default: the Node object's InternalIP",
      envAliases: ['NODE_IP'],
      validate: (v) => (/^\d{1,3}(\.\d{1,3}){3}$/.test(v) && v.split('.').every((o) => Number(o) <= 255) ? undefined : 'is not an IPv4 address'),
    }),
    vxlanVni: opt.int({ description: 'VNI of the vx-strait overlay to the active gateway', default: 4800, min: 1, max: 16_777_215 }),
    vxlanPort: opt.int({ description: 'UDP port of the vx-strait overlay (distinct from the tunnel drivers\' 4789)', default: 4800, min: 1, max: 65535 }),
    vxlanMtu: opt.int({ description: 'MTU of vx-strait (the node network MTU minus 50)', default: 1450, min: 576, max: 9000 }),
    overlayCidr: opt.string({
      description: "IPv4 network of the overlay addresses; a node's overlay address keeps its node IP's host bits (/8: the last three octets)",
      default: '240.0.0.0/8',
      validate: overlayCidrProblem,
    }),
    mssClamp: opt.string({
      description: "TCP MSS clamp on vx-strait: 'pmtu' (route MTU) or a fixed MSS in bytes",
      default: 'pmtu',
      pattern: /^(pmtu|\d{3,5})$/,
      patternHint: "must be 'pmtu' or a number of bytes",
    }),
    resyncInterval: opt.duration({ description: 'how often the desired state is re-applied (repairs drift; a no-op when nothing changed)', default: '10s', min: 100 }),
  },
  { checks: [natsCheck] },
);
