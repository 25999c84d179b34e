import { counter, gauge, histogram, type Registry } from '@strait/observability';
import type { Counter, Gauge, Histogram } from 'prom-client';

/** route-agent's metrics. */
export class RouteAgentMetrics {
  readonly routes: Gauge;
  readonly isGateway: Gauge;
  readonly repoint: Histogram<'kind'>;
  readonly transitions: Counter<'kind'>;
  readonly applies: Counter<'result'>;
  readonly hints: Counter<'result'>;

  constructor(registry: Registry) {
    this.routes = gauge(registry, { name: 'strait_route_agent_routes', help: 'Routes to remote CIDRs route-agent has programmed on this node (0 on the active gateway, whose routing tunnel-operator owns).' });
    this.isGateway = gauge(registry, { name: 'strait_route_agent_gateway', help: '1 while this node is the active gateway node.' });
    this.repoint = histogram(registry, {
      name: 'strait_route_agent_repoint_seconds',
      help: 'Time from observing a change of the active gateway (Lease watch or NATS hint) to this node\'s kernel state following it.',
      labelNames: ['kind'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    });
    this.transitions = counter(registry, {
      name: 'strait_route_agent_gateway_transitions_total',
      help: 'Gateway transitions applied on this node, by kind (BecameGateway, StoppedBeingGateway, Repointed).',
      labelNames: ['kind'] as const,
    });
    this.applies = counter(registry, { name: 'strait_route_agent_applies_total', help: 'Desired-state applies, by result (changed, unchanged, error).', labelNames: ['result'] as const });
    this.hints = counter(registry, {
      name: 'strait_route_agent_leader_hints_total',
      help: 'NATS leader hints received, by result (confirmed: the Lease agreed and a sync followed; stale: the Lease did not agree; known: nothing new).',
      labelNames: ['result'] as const,
    });
    this.routes.set(0);
    this.isGateway.set(0);
  }
}
