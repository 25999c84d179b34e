import { VXLAN_LINK, parseCIDR } from '@strait/api';
import { confKey, mssClampTable, type AddressSpec, type FdbSpec, type LinkSpec, type NftTableSpec, type RouteSpec, type SysctlValue } from '@strait/net';
import { overlayAddress, overlayPrefixLength } from './overlay.ts';

/**
 * route-agent's desired kernel state on one node, as pure data (see docs/adr/0007):
 *
 *   every node         vx-strait (VXLAN, VNI/port of the config, local = node IP, learning on)
 *                      <overlay address>/<prefix> on vx-strait; rp_filter 2 on vx-strait
 *                      nft inet strait_route_mss: TCP MSS clamp on vx-strait
 *   active gateway     nothing else: its end of vx-strait decapsulates the other nodes' traffic, and
 *                      tunnel-operator's rules (`to <remote CIDR> lookup 18952`) send it into
 *                      strait.host — route-agent never writes table 18952 or duplicates those routes
 *   every other node   fdb 00:00:00:00:00:00 dst <active gateway node IP> on vx-strait
 *                      <remote CIDR> via <gateway overlay address> dev vx-strait onlink (proto 202)
 *
 * The link is the same in both roles, so a role change never recreates it; only the fdb entry and
 * the routes move.
 */

/** Owner of the links (alias `strait:route-agent`). */
export const LINK_OWNER = 'route-agent';
/** Routing protocol number of route-agent's routes (its own, so no other Strait writer shares them). */
export const ROUTE_PROTO = 202;
export const MAIN_TABLE = 254;
/** route-agent's nftables table (adr 0006: one table per writer and purpose). */
export const MSS_TABLE = 'strait_route_mss';
export const ZERO_MAC = '00:00:00:00:00:00';

export type NodeRole = 'gateway' | 'non-gateway';

export interface OverlaySettings {
  readonly vni: number;
  readonly port: number;
  readonly mtu: number;
  readonly overlayCidr: string;
  readonly mss: 'pmtu' | number;
}

export interface NodeInput {
  readonly nodeIp: string;
  /** Remote CIDRs as this cluster addresses them. */
  readonly remoteCidrs: readonly string[];
  /** The active gateway node's IP; undefined: none known (no routes, no fdb). */
  readonly gatewayIp: string | undefined;
  readonly role: NodeRole;
  readonly overlay: OverlaySettings;
}

export interface NodeDesired {
  readonly role: NodeRole;
  readonly links: readonly LinkSpec[];
  readonly addresses: readonly AddressSpec[];
  readonly fdb: readonly FdbSpec[];
  readonly routes: readonly RouteSpec[];
  readonly sysctl: Readonly<Record<string, SysctlValue>>;
  readonly nft: NftTableSpec;
  /** Remote CIDRs left out (IPv6: the overlay is IPv4). */
  readonly skipped: readonly string[];
}

export function overlayLink(o: OverlaySettings, nodeIp: string): LinkSpec {
  return { name: VXLAN_LINK, kind: 'vxlan', mtu: o.mtu, vxlan: { vni: o.vni, dstport: o.port, local: nodeIp, learning: true } };
}

export function mssTable(o: Pick<OverlaySettings, 'mss'>): NftTableSpec {
  return mssClampTable({ interfaces: [VXLAN_LINK], mss: o.mss, table: MSS_TABLE });
}

export function desiredNode(i: NodeInput): NodeDesired {
  const o = i.overlay;
  const own = overlayAddress(o.overlayCidr, i.nodeIp);
  const v4 = i.remoteCidrs.filter((c) => parseCIDR(c)?.address.family === 4);
  const skipped = i.remoteCidrs.filter((c) => !v4.includes(c));
  const pointed = i.role === 'non-gateway' && i.gatewayIp !== undefined && i.gatewayIp !== i.nodeIp;
  const via = pointed ? overlayAddress(o.overlayCidr, i.gatewayIp as string) : undefined;
  return {
    role: i.role,
    links: [overlayLink(o, i.nodeIp)],
    addresses: [{ dev: VXLAN_LINK, address: `${own}/${overlayPrefixLength(o.overlayCidr)}` }],
    fdb: pointed ? [{ dev: VXLAN_LINK, mac: ZERO_MAC, dst: i.gatewayIp as string }] : [],
    routes: pointed ? [...new Set(v4)].sort().map((dst) => ({ dst, via, dev: VXLAN_LINK, onlink: true, table: MAIN_TABLE })) : [],
    // The gateway receives the other nodes' traffic on vx-strait while its route back to their pods
    // is the node network: loose reverse-path filtering on the overlay link.
    sysctl: { [confKey(4, VXLAN_LINK, 'rp_filter')]: 2 },
    nft: mssTable(o),
    skipped,
  };
}
