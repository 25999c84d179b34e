import { counter, gauge, histogram, type Registry } from '@strait/observability';
import type { Counter, Gauge, Histogram } from 'prom-client';

/** Buckets of one apply (seconds): an element change takes ~1 ms, a full table of 10 000 entries ~0.1 s. */
const APPLY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** What kind of kernel apply: element changes only, or the table as a whole (read back or trusted). */
export type ApplyKind = 'none' | 'elements' | 'table';

/** natmapping-operator's own metrics (reconcile and workqueue metrics come from ControllerMetrics). */
export class NatMetrics {
  readonly programmed: Gauge<'mapping'>;
  readonly invalid: Gauge<'mapping'>;
  readonly mapElements: Gauge<'family'>;
  readonly applyDuration: Histogram<'kind'>;
  readonly applyErrors: Counter;
  readonly transactions: Counter<'kind'>;

  constructor(registry: Registry) {
    this.programmed = gauge(registry, {
      name: 'strait_natmapping_entries_programmed',
      help: 'Entries of a NatMapping translated by the NAT map of this gateway node.',
      labelNames: ['mapping'] as const,
    });
    this.invalid = gauge(registry, {
      name: 'strait_natmapping_entries_invalid',
      help: 'Entries of a NatMapping excluded as invalid or conflicting (see status and Events).',
      labelNames: ['mapping'] as const,
    });
    this.mapElements = gauge(registry, {
      name: 'strait_natmapping_map_elements',
      help: 'Elements of the NAT map in the gateway namespace, per IP family.',
      labelNames: ['family'] as const,
    });
    this.applyDuration = histogram(registry, {
      name: 'strait_natmapping_apply_duration_seconds',
      help: 'Time to bring the NAT table to the desired state (compute, diff and kernel transaction).',
      labelNames: ['kind'] as const,
      buckets: APPLY_BUCKETS,
    });
    this.applyErrors = counter(registry, { name: 'strait_natmapping_apply_errors_total', help: 'Applies of the NAT table that failed.' });
    this.transactions = counter(registry, {
      name: 'strait_natmapping_nft_transactions_total',
      help: 'nftables transactions written to the NAT table, by kind.',
      labelNames: ['kind'] as const,
    });
    for (const family of ['ipv4', 'ipv6']) this.mapElements.set({ family }, 0);
    for (const kind of ['elements', 'table']) {
      this.transactions.inc({ kind }, 0);
      this.applyDuration.zero({ kind });
    }
    this.applyErrors.inc(0);
  }

  setMapping(mapping: string, programmed: number, invalid: number): void {
    this.programmed.set({ mapping }, programmed);
    this.invalid.set({ mapping }, invalid);
  }

  removeMapping(mapping: string): void {
    this.programmed.remove({ mapping });
    this.invalid.remove({ mapping });
  }
}
