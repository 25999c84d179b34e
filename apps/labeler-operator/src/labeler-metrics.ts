import { GATEWAY_ROLES, type GatewayRole } from '@strait/api';
import { counter, histogram, type Registry } from '@strait/observability';

/** Label latency buckets (seconds), 1 ms … 10 s. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];

/** The labeler's own metrics (the controller and workqueue ones come from ControllerMetrics). */
export class LabelerMetrics {
  readonly #transitions;
  readonly #latency;

  constructor(registry: Registry) {
    this.#transitions = counter(registry, {
      name: 'strait_labeler_transitions_total',
      help: 'Gateway pod role labels written, by the role written (active or standby).',
      labelNames: ['to'] as const,
    });
    this.#latency = histogram(registry, {
      name: 'strait_labeler_label_latency_seconds',
      help: 'From the labeler seeing a new active gateway in the Lease (watch, NATS hint or expiry) to that pod carrying net.strait.io/gateway=active.',
      buckets: LATENCY_BUCKETS,
    });
    for (const to of GATEWAY_ROLES) this.#transitions.inc({ to }, 0);
    this.#latency.zero({});
  }

  transition(to: GatewayRole): void {
    this.#transitions.inc({ to });
  }

  labelLatency(seconds: number): void {
    this.#latency.observe(seconds);
  }
}
