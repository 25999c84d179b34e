import { GATEWAY_NODE_LABEL, GATEWAY_NODE_LABEL_VALUE, TunnelEndpointResource, type Endpoint, type Gateway, type TunnelEndpoint } from '@strait/api';
import { GatewayLeaderSubject, type Bus, type BusSubscription } from '@strait/bus';
import { EventRecorder, Informer, NodeResource, type EventsV1Event, type KubeObject, type Lease, type ResourceClient } from '@strait/kube';
import type { Logger } from 'pino';
import { activeGateway, internalIp, type ActiveGateway, type LeaderHint, type LeaseView } from './active-gateway.ts';
import type { RouteDatapath } from './datapath.ts';
import type { OverlaySettings } from './desired.ts';
import type { RouteAgentMetrics } from './metrics.ts';
import { remoteCidrs } from './remote-cidrs.ts';
import { NodeRouter, type Transition } from './router.ts';

/**
 * route-agent's control loop on one node: informers on the gateway Lease, the Gateway objects, the
 * cluster's Endpoint, the TunnelEndpoints and the gateway Nodes; every change (and every NATS leader
 * hint the Lease confirms) triggers one coalesced sync: active gateway + remote CIDRs → NodeRouter →
 * kernel. Transitions are logged, counted and recorded as Events on this node's Node object. A
 * periodic forced sync repairs drift. Stopping leaves every route in place.
 */

export const REPORTING_CONTROLLER = 'net.strait.io/route-agent';

export interface NodeObject extends KubeObject {
  status?: { addresses?: { type?: string; address?: string }[] };
}

export interface RouteAgentOptions {
  readonly clusterId: string;
  readonly namespace: string;
  readonly nodeName: string;
  readonly nodeIp?: string | undefined;
  readonly leaseName: string;
  readonly leases: ResourceClient<Lease>;
  readonly gateways: ResourceClient<Gateway>;
  readonly endpoints: ResourceClient<Endpoint>;
  readonly teps: ResourceClient<TunnelEndpoint>;
  readonly nodes: ResourceClient<NodeObject>;
  readonly events: ResourceClient<EventsV1Event>;
  readonly bus?: Bus | undefined;
  readonly overlay: OverlaySettings;
  readonly datapath: RouteDatapath;
  readonly logger: Logger;
  readonly metrics?: RouteAgentMetrics | undefined;
  readonly resyncIntervalMs: number;
}

export class RouteAgent {
  readonly #o: RouteAgentOptions;
  readonly #log: Logger;
  readonly #recorder: EventRecorder;
  readonly #leaseInf: Informer<Lease>;
  readonly #gatewayInf: Informer<Gateway>;
  readonly #endpointInf: Informer<Endpoint>;
  readonly #tepInf: Informer<TunnelEndpoint>;
  readonly #nodeInf: Informer<NodeObject>;
  /** Nodes read one by one (an active gateway node without the gateway label). */
  readonly #extraNodes = new Map<string, string>();
  readonly #reported = new Map<string, string>();
  #router: NodeRouter | undefined;
  #hint: LeaderHint | undefined;
  #freshLease: { rv: string; view: LeaseView } | undefined;
  #sub: BusSubscription | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #pendingAt: number | undefined;
  #pendingForce = false;
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;
  #lastUnresolved = '';
  #synced = false;

  constructor(o: RouteAgentOptions) {
    this.#o = o;
    this.#log = o.logger;
    this.#recorder = new EventRecorder({ client: o.events, reportingController: REPORTING_CONTROLLER, reportingInstance: o.nodeName, logger: o.logger });
    const ns = o.namespace;
    this.#leaseInf = new Informer<Lease>({ client: o.leases, namespace: ns, fieldSelector: `metadata.name=${o.leaseName}`, logger: o.logger, name: 'lease' });
    this.#gatewayInf = new Informer<Gateway>({ client: o.gateways, namespace: ns, logger: o.logger, name: 'gateways' });
    this.#endpointInf = new Informer<Endpoint>({ client: o.endpoints, namespace: ns, logger: o.logger, name: 'endpoints' });
    this.#tepInf = new Informer<TunnelEndpoint>({ client: o.teps, namespace: ns, logger: o.logger, name: 'tunnelendpoints' });
    this.#nodeInf = new Informer<NodeObject>({ client: o.nodes, labelSelector: `${GATEWAY_NODE_LABEL}=${GATEWAY_NODE_LABEL_VALUE}`, logger: o.logger, name: 'gateway-nodes' });
    const trigger = { onAdd: () => this.#schedule(), onUpdate: () => this.#schedule(), onDelete: () => this.#schedule() };
    this.#leaseInf.addEventHandler({
      onAdd: () => this.#leaseChanged(),
      onUpdate: (a, b) => {
        if (a.spec?.holderIdentity !== b.spec?.holderIdentity) this.#leaseChanged();
      },
      onDelete: () => this.#leaseChanged(),
    });
    for (const inf of [this.#gatewayInf, this.#endpointInf, this.#tepInf, this.#nodeInf] as Informer<KubeObject>[]) inf.addEventHandler(trigger);
  }

  /** Synced and applied at least once. */
  get ready(): boolean {
    return this.#synced;
  }

  get role(): string | undefined {
    return this.#router?.role;
  }

  async start(): Promise<void> {
    const infs = [this.#leaseInf, this.#gatewayInf, this.#endpointInf, this.#tepInf, this.#nodeInf] as Informer<KubeObject>[];
    for (const inf of infs) inf.start();
    await Promise.all(infs.map((i) => i.waitForSync({ timeoutMs: 120_000 })));
    const nodeIp = this.#o.nodeIp ?? (await this.#ownIp());
    this.#router = new NodeRouter({
      nodeName: this.#o.nodeName,
      nodeIp,
      overlay: this.#o.overlay,
      datapath: this.#o.datapath,
      handlers: { onTransition: (t) => this.#onTransition(t), onApplied: (i) => this.#onApplied(i) },
    });
    this.#log.info({ nodeIp, vni: this.#o.overlay.vni, port: this.#o.overlay.port }, 'caches synced');
    if (this.#o.bus) {
      this.#sub = this.#o.bus.subscribe(GatewayLeaderSubject, { cluster: this.#o.clusterId }, (p) => void this.#onHint({ holder: p.holder, node: p.node }));
    }
    this.#schedule(performance.now(), true);
    await this.#running;
    this.#timer = setInterval(() => this.#schedule(performance.now(), true), this.#o.resyncIntervalMs);
    this.#timer.unref();
  }

  /** Stops watching; the kernel state stays as it is (the next process adopts it). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#retry) clearTimeout(this.#retry);
    this.#sub?.unsubscribe();
    await this.#running?.catch(() => undefined);
    await Promise.all([this.#leaseInf, this.#gatewayInf, this.#endpointInf, this.#tepInf, this.#nodeInf].map((i) => (i as Informer<KubeObject>).stop()));
  }

  async #ownIp(): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const ip = internalIp(this.#nodeInf.get(this.#o.nodeName) ?? (await this.#o.nodes.get({ name: this.#o.nodeName }).catch(() => undefined)));
      if (ip) return ip;
      if (this.#stopped) throw new Error('stopped before the node IP was known');
      if (attempt % 20 === 0) this.#log.warn({ node: this.#o.nodeName }, 'this node has no IPv4 InternalIP yet (Node object missing?); set --node-ip or wait');
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  #leaseChanged(): void {
    this.#freshLease = undefined;
    this.#schedule();
  }

  #leaseView(): LeaseView | undefined {
    const l = this.#leaseInf.get(`${this.#o.namespace}/${this.#o.leaseName}`);
    const cached = l ? { holder: l.spec?.holderIdentity ?? undefined, transitions: l.spec?.leaseTransitions ?? undefined } : undefined;
    const fresh = this.#freshLease;
    if (fresh && (!l || Number(fresh.rv) > Number(l.metadata?.resourceVersion ?? 0))) return fresh.view;
    return cached;
  }

  /** A NATS hint: re-read the Lease from the API server; act only on what it says. */
  async #onHint(hint: LeaderHint): Promise<void> {
    this.#hint = hint;
    if (this.#leaseView()?.holder === hint.holder) {
      this.#o.metrics?.hints.inc({ result: 'known' });
      return;
    }
    const detectedAt = performance.now();
    const lease = await this.#o.leases.get({ namespace: this.#o.namespace, name: this.#o.leaseName }).catch(() => undefined);
    if (!lease || lease.spec?.holderIdentity !== hint.holder) {
      this.#o.metrics?.hints.inc({ result: 'stale' });
      return;
    }
    this.#o.metrics?.hints.inc({ result: 'confirmed' });
    this.#freshLease = { rv: lease.metadata?.resourceVersion ?? '0', view: { holder: hint.holder, transitions: lease.spec?.leaseTransitions ?? undefined } };
    this.#log.info({ holder: hint.holder, node: hint.node }, 'leader hint confirmed by the Lease');
    this.#schedule(detectedAt);
  }

  #schedule(detectedAt = performance.now(), force = false): void {
    if (this.#stopped || !this.#router) return;
    this.#pendingAt = this.#pendingAt === undefined ? detectedAt : Math.min(this.#pendingAt, detectedAt);
    this.#pendingForce ||= force;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        const at = this.#pendingAt ?? performance.now();
        const f = this.#pendingForce;
        this.#pendingAt = undefined;
        this.#pendingForce = false;
        try {
          await this.#syncOnce(at, f);
        } catch (e) {
          this.#o.metrics?.applies.inc({ result: 'error' });
          this.#log.error({ err: errText(e) }, 'applying the routes failed; retrying');
          if (!this.#stopped) {
            this.#retry = setTimeout(() => this.#schedule(at, true), 1000);
            this.#retry.unref();
          }
        }
      } while (this.#again && !this.#stopped);
      this.#running = undefined;
    })();
  }

  async #resolve(): Promise<ActiveGateway> {
    const nodeIps = new Map<string, string>(this.#extraNodes);
    for (const n of this.#nodeInf.list()) {
      const ip = internalIp(n);
      if (n.metadata?.name && ip) nodeIps.set(n.metadata.name, ip);
    }
    const inputs = {
      lease: this.#leaseView(),
      gateways: this.#gatewayInf.list(),
      endpoints: this.#endpointInf.list(),
      clusterId: this.#o.clusterId,
      hint: this.#hint,
      nodeIps,
    };
    let g = activeGateway(inputs);
    if (g.kind === 'unresolved' && g.node && !nodeIps.has(g.node)) {
      // An active gateway node without the gateway label: read it once.
      const ip = internalIp(await this.#o.nodes.get({ name: g.node }).catch(() => undefined));
      if (ip) {
        this.#extraNodes.set(g.node, ip);
        nodeIps.set(g.node, ip);
        g = activeGateway(inputs);
      }
    }
    return g;
  }

  async #syncOnce(detectedAt: number, force: boolean): Promise<void> {
    const router = this.#router!;
    if (force) this.#extraNodes.clear();
    const gateway = await this.#resolve();
    const remote = remoteCidrs(this.#tepInf.list());
    for (const p of remote.problems) {
      if (this.#reported.get(p.key) === p.message) continue;
      this.#reported.set(p.key, p.message);
      this.#log.warn({ tunnelEndpoint: p.key, problem: p.message }, 'TunnelEndpoint skipped');
      void this.#recorder.warning(p.object, 'InvalidTunnelEndpoint', `skipped by route-agent on ${this.#o.nodeName}: ${p.message}`, { descriptor: TunnelEndpointResource, action: 'Route' });
    }
    for (const k of [...this.#reported.keys()]) if (!remote.problems.some((p) => p.key === k)) this.#reported.delete(k);
    if (gateway.kind === 'unresolved') {
      if (this.#lastUnresolved !== gateway.reason) {
        this.#lastUnresolved = gateway.reason;
        this.#log.warn({ reason: gateway.reason }, 'active gateway not resolved; keeping the last known one');
        void this.#recorder.warning(this.#nodeRef(), 'GatewayUnresolved', gateway.reason, { descriptor: NodeResource, action: 'Route' });
      }
    } else this.#lastUnresolved = '';
    await router.sync({ gateway, remoteCidrs: remote.cidrs, force, detectedAt });
    this.#synced = true;
  }

  #nodeRef(): KubeObject {
    const n = this.#nodeInf.get(this.#o.nodeName);
    return { apiVersion: 'v1', kind: 'Node', metadata: { name: this.#o.nodeName, ...(n?.metadata?.uid ? { uid: n.metadata.uid } : {}) } };
  }

  #onApplied(i: { outcome: { writes: number; routes: number; loosened: string | undefined }; role: string; gateway: string | undefined; first: boolean }): void {
    this.#o.metrics?.routes.set(i.outcome.routes);
    this.#o.metrics?.isGateway.set(i.role === 'gateway' ? 1 : 0);
    this.#o.metrics?.applies.inc({ result: i.outcome.writes > 0 ? 'changed' : 'unchanged' });
    if (i.outcome.loosened) this.#log.info({ dev: i.outcome.loosened }, 'reverse-path filter of the underlay device set to loose (2): replies from the gateway arrive on it');
    if (i.first) {
      this.#log.info({ role: i.role, gateway: i.gateway, routes: i.outcome.routes, writes: i.outcome.writes }, i.outcome.writes > 0 ? 'routes programmed' : 'routes adopted unchanged');
      void this.#recorder.normal(this.#nodeRef(), 'RoutesProgrammed', `route-agent on ${this.#o.nodeName}: ${i.role === 'gateway' ? 'active gateway node' : `${i.outcome.routes} route(s) to remote clusters through vx-strait to ${i.gateway ?? 'no gateway yet'}`}`, {
        descriptor: NodeResource,
        action: 'Route',
      });
    } else if (i.outcome.writes > 0) this.#log.info({ role: i.role, gateway: i.gateway, routes: i.outcome.routes, writes: i.outcome.writes }, 'routes updated');
  }

  #onTransition(t: Transition): void {
    this.#o.metrics?.transitions.inc({ kind: t.kind });
    this.#o.metrics?.repoint.observe({ kind: t.kind }, t.seconds);
    const ms = Math.round(t.seconds * 1000);
    const note =
      t.kind === 'BecameGateway'
        ? `${this.#o.nodeName} is the active gateway node (was ${t.from ?? 'none'}): its overlay routes are withdrawn, tunnel-operator's rules carry the traffic`
        : t.kind === 'StoppedBeingGateway'
          ? `${this.#o.nodeName} is no longer the active gateway node: routes point through vx-strait at ${t.to ?? 'none'}`
          : `routes re-pointed through vx-strait from ${t.from ?? 'none'} to ${t.to ?? 'none'}`;
    this.#log.info({ transition: t.kind, from: t.from, to: t.to, ms, routes: t.outcome.routes, writes: t.outcome.writes }, note);
    void this.#recorder.normal(this.#nodeRef(), t.kind, `${note} (${ms} ms)`, { descriptor: NodeResource, action: 'Route' });
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
