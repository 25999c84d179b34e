/**
 * Prometheus metrics of the event bus, registered on a prom-client Registry.
 *
 * Several buses may share one registry (tests, a process with two connections): an already registered
 * metric of the same name is reused instead of registered twice.
 */
import { Counter, Gauge, Registry } from 'prom-client';

/** Why a received message was not delivered to (or not handled by) its handler. */
export type DropReason = 'invalid_json' | 'schema_mismatch' | 'subject_mismatch' | 'too_large' | 'handler_error';

/** Why a publish did not reach the client's outbound buffer. */
export type PublishFailureReason = 'not_connected' | 'error';

export class BusMetrics {
  readonly registry: Registry;
  readonly received: Counter<'subject_kind'>;
  readonly published: Counter<'subject_kind'>;
  readonly dropped: Counter<'subject_kind' | 'reason'>;
  readonly publishFailures: Counter<'subject_kind' | 'reason'>;
  readonly reconnects: Counter;
  readonly connected: Gauge;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    this.received = counter(registry, 'strait_bus_messages_received_total', 'Messages received on bus subscriptions (before validation).', ['subject_kind']);
    this.published = counter(registry, 'strait_bus_messages_published_total', 'Valid messages handed to the NATS client for publishing.', ['subject_kind']);
    this.dropped = counter(
      registry,
      'strait_bus_messages_dropped_total',
      'Received messages dropped: invalid JSON, schema or subject mismatch, too large, or the handler threw.',
      ['subject_kind', 'reason'],
    );
    this.publishFailures = counter(registry, 'strait_bus_publish_failures_total', 'Publishes that failed because the bus had no usable connection.', [
      'subject_kind',
      'reason',
    ]);
    this.reconnects = counter(registry, 'strait_bus_reconnects_total', 'Successful reconnections to a NATS server after a disconnect.', []);
    this.connected = gauge(registry, 'strait_bus_connected', '1 when the bus is connected to a NATS server, else 0.');
  }
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<L>;
  if (existing !== undefined) throw new Error(`metric ${name} is already registered with another type`);
  return new Counter({ name, help, labelNames, registers: [registry] });
}

function gauge(registry: Registry, name: string, help: string): Gauge {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Gauge) return existing as Gauge;
  if (existing !== undefined) throw new Error(`metric ${name} is already registered with another type`);
  return new Gauge({ name, help, registers: [registry] });
}
