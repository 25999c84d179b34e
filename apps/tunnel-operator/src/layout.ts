import { GATEWAY_VETH, HOST_VETH, formatCIDR, formatIP, isMaskedCIDR, maskedPrefix, parseCIDR, parseIP } from '@strait/api';
import type { AddressSpec, LinkSpec, NftTableSpec, RouteSpec, SysctlValue } from '@strait/net';

/**
 * The gateway node layout every replica keeps (hot standby), as pure data (see docs/adr/0004):
 *
 *   host namespace                                 gateway namespace (--netns-name)
 *   strait.host 169.254.189.1/30  ── veth ──  strait.gateway 169.254.189.2/30
 *   nft inet strait_gwport: UDP tunnel ports        default via 169.254.189.1 (the underlay, NATed by the host)
 *     addressed to the node → 169.254.189.2;        tunnel links (drivers), routes to remote CIDRs (drivers),
 *     169.254.189.2 → out masqueraded               nft inet strait_remap (leader, per peer)
 *
 * Tunnel daemons and links live in the gateway namespace and send their encapsulated traffic from
 * the veth address; the host forwards the tunnel ports to it and masquerades the replies, so peers
 * see the node's own address. The per-peer host side (policy rules to table 18952 and its routes
 * into the veth) is the leader's only, see peers.ts.
 */

/** Strait owner name of the links (alias `strait:tunnel-operator`). */
export const LINK_OWNER = 'tunnel-operator';
/** Owned nftables table in the host namespace: tunnel ports forwarded into the gateway namespace. */
export const PORT_FORWARD_TABLE = 'strait_gwport';

export interface VethAddresses {
  /** `169.254.189.1/30` (host end). */
  readonly hostCidr: string;
  readonly hostIp: string;
  /** `169.254.189.2/30` (gateway end). */
  readonly gatewayCidr: string;
  readonly gatewayIp: string;
}

/** Config validator: an IPv4 /30 or /31 network address. */
export function checkVethCidr(v: string): string | undefined {
  const p = parseCIDR(v);
  if (!p || p.address.family !== 4) return 'must be an IPv4 CIDR such as 169.254.189.0/30';
  if (p.prefixLength !== 30 && p.prefixLength !== 31) return 'must be a /30 or a /31';
  if (!isMaskedCIDR(v)) return `has host bits set; the network is ${formatCIDR(maskedPrefix(p))}`;
  return undefined;
}

export function cidrProblem(v: string): string | undefined {
  const p = parseCIDR(v);
  if (!p) return 'is not a CIDR';
  if (!isMaskedCIDR(v)) return `has host bits set; the network is ${formatCIDR(maskedPrefix(p))}`;
  return undefined;
}

export function ipProblem(v: string): string | undefined {
  return parseIP(v) ? undefined : 'is not an IP address';
}

/** The two ends of the veth link network: /30 → .1 and .2, /31 → .0 and .1. */
export function vethAddresses(cidr: string): VethAddresses {
  const why = checkVethCidr(cidr);
  if (why) throw new Error(`vethCidr: ${JSON.stringify(cidr)} ${why}`);
  const p = parseCIDR(cidr)!;
  const base = p.address.value;
  const first = p.prefixLength === 30 ? base + 1n : base;
  const ip = (v: bigint): string => formatIP({ family: 4, value: v });
  const hostIp = ip(first);
  const gatewayIp = ip(first + 1n);
  return { hostIp, gatewayIp, hostCidr: `${hostIp}/${p.prefixLength}`, gatewayCidr: `${gatewayIp}/${p.prefixLength}` };
}

export interface LayoutInput {
  readonly netnsName: string;
  readonly vethCidr: string;
  /** UDP ports forwarded from the node's addresses into the gateway namespace. */
  readonly forwardUdpPorts: readonly number[];
  /** The in-tunnel health-check address of this gateway (a /32 or /128 on the gateway end of the veth). */
  readonly healthCheckIp?: string | undefined;
}

export interface GatewayLayout {
  readonly veth: VethAddresses;
  readonly host: {
    readonly links: readonly LinkSpec[];
    readonly addresses: readonly AddressSpec[];
    readonly sysctl: Readonly<Record<string, SysctlValue>>;
    readonly nft: NftTableSpec;
  };
  readonly gateway: {
    readonly addresses: readonly AddressSpec[];
    readonly routes: readonly RouteSpec[];
    readonly sysctl: Readonly<Record<string, SysctlValue>>;
  };
}

export function gatewayLayout(i: LayoutInput): GatewayLayout {
  const veth = vethAddresses(i.vethCidr);
  const ports = [...new Set(i.forwardUdpPorts)].sort((a, b) => a - b);
  const rules: string[] = [];
  if (ports.length > 0) rules.push(`fib daddr type local udp dport { ${ports.join(', ')} } dnat ip to ${veth.gatewayIp}`);
  return {
    veth,
    host: {
      links: [{ name: HOST_VETH, kind: 'veth', peer: { name: GATEWAY_VETH, netns: i.netnsName } }],
      addresses: [{ dev: HOST_VETH, address: veth.hostCidr }],
      // Forwarding between the node network and the veth; loose reverse-path filtering because traffic
      // from remote clusters enters by the veth while the node's routes to those sources may differ.
      sysctl: { 'net/ipv4/ip_forward': 1, [`net/ipv4/conf/${HOST_VETH}/rp_filter`]: 2 },
      nft: {
        family: 'inet',
        name: PORT_FORWARD_TABLE,
        chains: [
          { name: 'prerouting', type: 'nat', hook: 'prerouting', priority: 'dstnat', policy: 'accept', rules },
          {
            name: 'postrouting',
            type: 'nat',
            hook: 'postrouting',
            priority: 'srcnat',
            policy: 'accept',
            rules: [`ip saddr ${veth.gatewayIp} oifname != "${HOST_VETH}" masquerade`],
          },
        ],
      },
    },
    gateway: {
      addresses: [
        { dev: GATEWAY_VETH, address: veth.gatewayCidr },
        ...(i.healthCheckIp ? [{ dev: GATEWAY_VETH, address: `${i.healthCheckIp}/${i.healthCheckIp.includes(':') ? 128 : 32}`, noprefixroute: true }] : []),
      ],
      routes: [{ dst: 'default', via: veth.hostIp, dev: GATEWAY_VETH }],
      sysctl: { 'net/ipv4/ip_forward': 1, 'net/ipv4/conf/all/rp_filter': 2, 'net/ipv4/conf/default/rp_filter': 2 },
    },
  };
}
