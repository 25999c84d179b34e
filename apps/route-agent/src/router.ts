import type { ActiveGateway } from './active-gateway.ts';
import type { ApplyOutcome, RouteDatapath } from './datapath.ts';
import { desiredNode, type NodeRole, type OverlaySettings } from './desired.ts';

/**
 * The node's role handlers (as Submariner's route-agent has them): every change of the active gateway
 * is applied to the kernel first, then reported as exactly one transition —
 *  - BecameGateway        this node is now the active gateway: its routes through vx-strait and its
 *                         fdb entry are removed (tunnel-operator's table-18952 rules take the traffic);
 *  - StoppedBeingGateway  another node took over: this node points at it like any other node;
 *  - Repointed            a node that is not the gateway follows the gateway to another node.
 * A first sync after a start adopts what the kernel holds and reports no transition (`Adopted`).
 * While the active gateway cannot be resolved (e.g. its Node object is missing), the last known
 * gateway is kept: routes are never withdrawn because of the control plane.
 */

export type TransitionKind = 'BecameGateway' | 'StoppedBeingGateway' | 'Repointed';

export interface Transition {
  readonly kind: TransitionKind;
  /** Previous active gateway node (undefined: none was known). */
  readonly from: string | undefined;
  /** New active gateway node (undefined: none). */
  readonly to: string | undefined;
  readonly role: NodeRole;
  /** Detection (event received) → kernel applied. */
  readonly seconds: number;
  readonly outcome: ApplyOutcome;
}

export interface RouterHandlers {
  onTransition(t: Transition): void;
  onApplied?(info: { readonly outcome: ApplyOutcome; readonly role: NodeRole; readonly gateway: string | undefined; readonly first: boolean }): void;
}

export interface NodeRouterOptions {
  readonly nodeName: string;
  readonly nodeIp: string;
  readonly overlay: OverlaySettings;
  readonly datapath: RouteDatapath;
  readonly handlers: RouterHandlers;
}

export interface SyncInput {
  readonly gateway: ActiveGateway;
  readonly remoteCidrs: readonly string[];
  /** Re-apply even when nothing changed since the last apply (periodic repair of drift). */
  readonly force?: boolean;
  /** performance.now() when the change that triggered this sync was observed. */
  readonly detectedAt?: number;
}

interface Applied {
  readonly role: NodeRole;
  readonly node: string | undefined;
  readonly ip: string | undefined;
  readonly key: string;
}

export class NodeRouter {
  readonly #o: NodeRouterOptions;
  #applied: Applied | undefined;
  #known: { node: string; ip: string } | undefined;

  constructor(o: NodeRouterOptions) {
    this.#o = o;
  }

  /** The role after the last apply (undefined before the first). */
  get role(): NodeRole | undefined {
    return this.#applied?.role;
  }

  get gatewayNode(): string | undefined {
    return this.#applied?.node;
  }

  async sync(input: SyncInput): Promise<Transition | undefined> {
    const t0 = input.detectedAt ?? performance.now();
    const g = input.gateway;
    if (g.kind === 'resolved') this.#known = { node: g.node, ip: g.ip };
    else if (g.kind === 'none') this.#known = undefined;
    const gw = this.#known;
    const role: NodeRole = gw?.node === this.#o.nodeName ? 'gateway' : 'non-gateway';
    const cidrs = [...input.remoteCidrs].sort();
    const key = JSON.stringify([role, gw?.node, gw?.ip, cidrs]);
    const prev = this.#applied;
    if (!input.force && prev?.key === key) return undefined;
    const desired = desiredNode({ nodeIp: this.#o.nodeIp, remoteCidrs: cidrs, gatewayIp: gw?.ip, role, overlay: this.#o.overlay });
    // After a full apply, a change of the gateway or of the remote CIDRs only moves fdb entry and routes.
    const outcome = await this.#o.datapath.apply(desired, gw?.ip, { pointsOnly: prev !== undefined && !input.force });
    this.#applied = { role, node: gw?.node, ip: gw?.ip, key };
    this.#o.handlers.onApplied?.({ outcome, role, gateway: gw?.node, first: prev === undefined });
    if (!prev) return undefined;
    let kind: TransitionKind | undefined;
    if (prev.role !== role) kind = role === 'gateway' ? 'BecameGateway' : 'StoppedBeingGateway';
    else if (role === 'non-gateway' && prev.node !== gw?.node) kind = 'Repointed';
    if (!kind) return undefined;
    const t: Transition = { kind, from: prev.node, to: gw?.node, role, seconds: (performance.now() - t0) / 1000, outcome };
    this.#o.handlers.onTransition(t);
    return t;
  }
}
