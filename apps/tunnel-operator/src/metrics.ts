import type { ConnectionStatus } from '@strait/drivers';
import { counter, gauge, histogram, type Registry } from '@strait/observability';
import type { Counter, Gauge, Histogram } from 'prom-client';

const STATES = ['Connecting', 'Connected', 'Error'] as const;
const RTT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** tunnel-operator's own metrics (reconcile and workqueue metrics come from ControllerMetrics). */
export class TunnelMetrics {
  readonly status: Gauge<'peer' | 'backend' | 'status'>;
  readonly rxBytes: Gauge<'peer'>;
  readonly txBytes: Gauge<'peer'>;
  readonly rtt: Histogram<'peer'>;
  readonly handshakeAge: Gauge<'peer'>;
  readonly leader: Gauge;
  readonly leaderTransitions: Counter<'to'>;
  readonly activation: Histogram;

  constructor(registry: Registry) {
    this.status = gauge(registry, {
      name: 'strait_tunnel_status',
      help: 'Connection status of the tunnel to a peer cluster (1 for the current status).',
      labelNames: ['peer', 'backend', 'status'] as const,
    });
    this.rxBytes = gauge(registry, { name: 'strait_tunnel_rx_bytes', help: 'Bytes received from a peer cluster through the tunnel (kernel counter).', labelNames: ['peer'] as const });
    this.txBytes = gauge(registry, { name: 'strait_tunnel_tx_bytes', help: 'Bytes sent to a peer cluster through the tunnel (kernel counter).', labelNames: ['peer'] as const });
    this.rtt = histogram(registry, {
      name: 'strait_tunnel_rtt_seconds',
      help: 'Round-trip time of the in-tunnel health probe (average per status refresh).',
      labelNames: ['peer'] as const,
      buckets: RTT_BUCKETS,
    });
    this.handshakeAge = gauge(registry, {
      name: 'strait_tunnel_last_handshake_age_seconds',
      help: 'Seconds since the last successful handshake with a peer cluster.',
      labelNames: ['peer'] as const,
    });
    this.leader = gauge(registry, { name: 'strait_gateway_leader', help: '1 while this replica is the active gateway (Lease holder).' });
    this.leaderTransitions = counter(registry, {
      name: 'strait_gateway_role_changes_total',
      help: 'Role changes of this replica, by new role.',
      labelNames: ['to'] as const,
    });
    this.activation = histogram(registry, {
      name: 'strait_gateway_activation_seconds',
      help: 'Time from becoming leader to every peer connected and the host rules applied.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.leader.set(0);
  }

  observe(c: ConnectionStatus, now = Date.now()): void {
    for (const s of STATES) this.status.set({ peer: c.clusterId, backend: c.backend, status: s }, c.state === s ? 1 : 0);
    this.rxBytes.set({ peer: c.clusterId }, c.rxBytes);
    this.txBytes.set({ peer: c.clusterId }, c.txBytes);
    if (c.lastHandshake) this.handshakeAge.set({ peer: c.clusterId }, Math.max(0, (now - Date.parse(c.lastHandshake)) / 1000));
    if (c.rtt && c.rtt.samples > 0) this.rtt.observe({ peer: c.clusterId }, c.rtt.avgMs / 1000);
  }

  forget(peer: string): void {
    for (const g of [this.rxBytes, this.txBytes, this.handshakeAge]) g.remove({ peer });
    for (const backend of ['wireguard', 'ipsec', 'vxlan']) for (const s of STATES) this.status.remove({ peer, backend, status: s });
  }
}
