/**
 * Test and benchmark support for tunnel-operator: @strait/testing's two-cluster lab (each cluster its
 * own kube-apiserver, 2 gateway nodes, 1 worker, 1 pod per node, every tunnel-operator a real process
 * inside its gateway node's namespace) with typed clients for the TunnelEndpoints and the Lease.
 *
 * Routes of the non-gateway nodes: by default a stand-in (`startRouteAgent()`: it polls the gateway
 * Lease every 20 ms and points the other nodes' routes at the active gateway node; its reaction is
 * part of a measured failover gap); with `realRouteAgent: true`, route-agent itself runs on every
 * node (a process per node namespace) and the stand-in is not used.
 */
import { fileURLToPath } from 'node:url';
import { TunnelEndpointResource, type TunnelEndpoint } from '@strait/api';
import { CrClient, LeaseResource, type Lease } from '@strait/kube';
import { LAB_K8S_NS, TwoClusterLab, type LabClusterBase } from '@strait/testing';

export { NsProcess, until, healthIp } from '@strait/testing';

export const K8S_NS = LAB_K8S_NS;
const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
/** route-agent's entry point, run as a process (not imported). */
const ROUTE_AGENT_MAIN = fileURLToPath(new URL('../../../route-agent/src/main.ts', import.meta.url));

export interface LabCluster extends LabClusterBase {
  readonly teps: CrClient<TunnelEndpoint>;
  readonly leases: CrClient<Lease>;
}

export interface LabOptions {
  /** Both clusters use 10.0.0.0/16 and reach each other through remapped CIDRs. */
  readonly samePodCidr?: boolean;
  /** Cable driver of the TunnelEndpoints (default wireguard). */
  readonly backend?: 'wireguard' | 'ipsec' | 'vxlan';
  readonly runId?: string;
  readonly operatorArgs?: readonly string[];
  /** Run the real route-agent on every node instead of the stand-in. */
  readonly realRouteAgent?: boolean;
  readonly routeAgentArgs?: readonly string[];
}

export class GatewayLab extends TwoClusterLab<LabCluster> {
  static async start(o: LabOptions = {}): Promise<GatewayLab> {
    const lab = new GatewayLab({
      ...o,
      operatorMain: MAIN,
      ...(o.realRouteAgent ? { routeAgentMain: ROUTE_AGENT_MAIN } : {}),
      decorate: (c) => ({
        ...c,
        teps: new CrClient<TunnelEndpoint>(c.kc, TunnelEndpointResource, { fieldManager: 'strait-test' }),
        leases: new CrClient<Lease>(c.kc, LeaseResource),
      }),
    });
    await lab.init();
    return lab;
  }

  tunnelEndpoint(from: string, endpointIp: string): TunnelEndpoint {
    return this.tunnelEndpointObject(from, endpointIp) as TunnelEndpoint;
  }

  /** The route-agent stand-in (see the module comment). */
  startRouteAgent(): void {
    this.startStandInRouteAgent();
  }

  stopRouteAgent(): Promise<void> {
    return this.stopStandInRouteAgent();
  }
}
