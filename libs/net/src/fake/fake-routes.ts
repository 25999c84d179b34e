import { report, type ApplyReport, type Netns } from '../apply-report.ts';
import { isEmptyDiff } from '../diff.ts';
import { STRAIT_PROTO, assertOwnedProto } from '../ownership.ts';
import { normalizeRoutes, planRoutes, routeKey, routeOps, type Route, type RouteScope, type RouteSpec, type RoutesPort } from '../routes.ts';
import type { FakeState } from './state.ts';

export class FakeRoutes implements RoutesPort {
  readonly #s: FakeState;
  constructor(state: FakeState) {
    this.#s = state;
  }
  async list(netns: Netns, scope: RouteScope = {}): Promise<Route[]> {
    const proto = scope.proto ?? STRAIT_PROTO;
    assertOwnedProto(proto);
    return this.#s
      .ns(netns)
      .routes.filter((r) => r.proto === proto && (!scope.tables || scope.tables.includes(r.route.table)))
      .map((r) => r.route);
  }
  async apply(netns: Netns, desired: readonly RouteSpec[], scope: RouteScope = {}): Promise<ApplyReport> {
    const proto = scope.proto ?? STRAIT_PROTO;
    assertOwnedProto(proto);
    const want = normalizeRoutes(desired, scope);
    const ns = this.#s.ns(netns);
    const plan = planRoutes(await this.list(netns, scope), want);
    if (isEmptyDiff(plan)) return report(0, 0, 0, plan.unchanged.length, 0);
    // The kernel refuses to add a route whose key another (foreign) route already has.
    const foreign = new Set(ns.routes.filter((r) => r.proto !== proto).map((r) => routeKey(r.route)));
    const clash = plan.add.find((r) => foreign.has(routeKey(r)));
    if (clash) this.#s.failNext(`route add ${clash.dst} `, 'RTNETLINK answers: File exists');
    this.#s.writeOps(netns, 'ip', routeOps(plan, proto));
    const gone = new Set([...plan.remove, ...plan.change.map((c) => c.from)].map(routeKey));
    ns.routes = ns.routes.filter((r) => r.proto !== proto || !gone.has(routeKey(r.route)));
    for (const r of [...plan.add, ...plan.change.map((c) => c.to)]) ns.routes.push({ route: r, proto });
    return report(plan.add.length, plan.remove.length, plan.change.length, plan.unchanged.length, 1);
  }
  deleteOwned(netns: Netns, scope: RouteScope = {}): Promise<ApplyReport> {
    return this.apply(netns, [], scope);
  }
}
