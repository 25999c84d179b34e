import { confKey, type AddressSpec, type LinkSpec, type RouteSpec, type SysctlValue } from '@strait/net';
import type { TopologyPlan } from './types.ts';

/**
 * The kernel state of every namespace of a topology, as pure data for `@strait/net`'s ports.
 *
 * Ownership inside the namespaces: links carry the alias `strait:topology` (the far end of a veth
 * `strait:topology/peer`), so Strait's own reconcilers running in a node namespace (tunnel-operator,
 * route-agent: other owners) neither see nor touch them; the simulated CNI's routes carry protocol
 * {@link TOPOLOGY_ROUTE_PROTO} instead of Strait's 201 for the same reason — to Strait they look like
 * the host's routes on a real node.
 *
 * Phases (each one needs the previous): switches create the bridges and the veths whose far ends go
 * to the nodes / external hosts; nodes configure those ends and create the pod veths whose far ends
 * go to the pods; leaves (pods, external hosts) configure their ends.
 */

/** Owner in the link alias of everything the topology creates. */
export const TOPOLOGY_OWNER = 'topology';
/** Routing protocol number of the simulated CNI's routes (Strait's own routes use 201). */
export const TOPOLOGY_ROUTE_PROTO = 250;

export interface NetnsDesired {
  readonly netns: string;
  readonly links: readonly LinkSpec[];
  readonly addresses: readonly AddressSpec[];
  readonly routes: readonly RouteSpec[];
  readonly sysctl: Readonly<Record<string, SysctlValue>>;
}

export interface DesiredState {
  readonly switches: readonly NetnsDesired[];
  readonly nodes: readonly NetnsDesired[];
  readonly leaves: readonly NetnsDesired[];
}

/** Forwarding on, reverse-path filter loose (Strait adds asymmetric paths through the gateway). */
export const ROUTER_SYSCTLS: Readonly<Record<string, SysctlValue>> = {
  'net.ipv4.ip_forward': 1,
  [confKey(4, 'all', 'rp_filter')]: 2,
  [confKey(4, 'default', 'rp_filter')]: 2,
};

const LOOSE_RP_FILTER: Readonly<Record<string, SysctlValue>> = {
  [confKey(4, 'all', 'rp_filter')]: 2,
  [confKey(4, 'default', 'rp_filter')]: 2,
};

export function desiredState(plan: TopologyPlan): DesiredState {
  const switches: NetnsDesired[] = [];
  const nodes: NetnsDesired[] = [];
  const leaves: NetnsDesired[] = [];

  const gateways = plan.clusters.flatMap((c) => c.gateways);
  switches.push({
    netns: plan.wan.netns,
    links: [
      { name: plan.wan.bridge, kind: 'bridge' },
      ...gateways.map((g) => ({
        name: g.wan?.switchPort as string,
        kind: 'veth' as const,
        master: plan.wan.bridge,
        peer: { name: g.wan?.ifname as string, netns: g.netns },
      })),
    ],
    addresses: [],
    routes: [],
    sysctl: {},
  });

  for (const c of plan.clusters) {
    switches.push({
      netns: c.switchNetns,
      links: [
        { name: c.bridge, kind: 'bridge' },
        ...c.nodes.map((n) => ({ name: n.switchPort, kind: 'veth' as const, master: c.bridge, peer: { name: n.ifname, netns: n.netns } })),
        ...c.externalHosts.map((h) => ({ name: h.switchPort, kind: 'veth' as const, master: c.bridge, peer: { name: h.ifname, netns: h.netns } })),
      ],
      addresses: [],
      routes: [],
      sysctl: {},
    });

    for (const n of c.nodes) {
      const links: LinkSpec[] = [{ name: n.ifname, kind: 'veth', peer: { name: n.switchPort, netns: c.switchNetns } }];
      const addresses: AddressSpec[] = [{ dev: n.ifname, address: `${n.ip}/${n.prefixLength}` }];
      if (n.wan) {
        links.push({ name: n.wan.ifname, kind: 'veth', peer: { name: n.wan.switchPort, netns: plan.wan.netns } });
        addresses.push({ dev: n.wan.ifname, address: `${n.wan.ip}/${n.wan.prefixLength}` });
      }
      const routes: RouteSpec[] = [];
      for (const p of n.pods) {
        links.push({ name: p.hostIfname, kind: 'veth', peer: { name: p.ifname, netns: p.netns } });
        addresses.push({ dev: p.hostIfname, address: `${p.gatewayIp}/32` });
        routes.push({ dst: `${p.ip}/32`, dev: p.hostIfname });
      }
      // host-gw: every other node's pod slice via that node's address.
      for (const other of c.nodes) {
        if (other !== n) routes.push({ dst: other.podCIDR, via: other.ip, dev: n.ifname });
      }
      if (c.externalCIDR !== undefined) routes.push({ dst: c.externalCIDR, dev: n.ifname });
      nodes.push({ netns: n.netns, links, addresses, routes, sysctl: ROUTER_SYSCTLS });
    }

    for (const n of c.nodes) {
      for (const p of n.pods) {
        leaves.push({
          netns: p.netns,
          links: [{ name: p.ifname, kind: 'veth', peer: { name: p.hostIfname, netns: n.netns } }],
          addresses: [{ dev: p.ifname, address: `${p.ip}/32` }],
          routes: [{ dst: 'default', via: p.gatewayIp, dev: p.ifname, onlink: true }],
          sysctl: {},
        });
      }
    }
    for (const h of c.externalHosts) {
      leaves.push({
        netns: h.netns,
        links: [{ name: h.ifname, kind: 'veth', peer: { name: h.switchPort, netns: c.switchNetns } }],
        addresses: [{ dev: h.ifname, address: `${h.ip}/${h.prefixLength}` }],
        // The node network on-link, and the pods behind their nodes (like a router that learnt them).
        routes: [{ dst: c.nodeCIDR, dev: h.ifname }, ...c.nodes.map((n) => ({ dst: n.podCIDR, via: n.ip, dev: h.ifname, onlink: true }))],
        sysctl: LOOSE_RP_FILTER,
      });
    }
  }
  return { switches, nodes, leaves };
}
