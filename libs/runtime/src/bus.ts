import { hostname } from 'node:os';
import type { Bus } from '@strait/bus';
import type { ServiceContext } from './service.ts';

/** The natsOptions() part of a service's configuration. */
export interface BusConfig {
  natsUrl: string[];
  natsUser: string | undefined;
  natsPassword: string | undefined;
  natsToken: string | undefined;
}

/**
 * Connects the service to the NATS event bus when --nats-url is set and registers the informational `nats`
 * readiness check (`/readyz?verbose` shows `[!]nats degraded: …` while disconnected; the
 * `strait_bus_connected` gauge says the same). It does not gate readiness: NATS only carries hints and
 * every service converges from Kubernetes alone, so a NATS outage must not take pods — above all the
 * active gateway, behind its Service — out of their endpoints. The first connect is retried in the
 * background. Returns undefined without --nats-url.
 * The caller closes the bus in its stop().
 */
export async function useBus<C extends BusConfig>(ctx: ServiceContext<C>, opts: { clientName?: string } = {}): Promise<Bus | undefined> {
  const c = ctx.config;
  if (c.natsUrl.length === 0) {
    ctx.logger.info('no --nats-url: running without the event bus');
    return undefined;
  }
  const { connectBus } = await import('@strait/bus');
  const bus = await connectBus({
    servers: c.natsUrl,
    name: opts.clientName ?? `${ctx.name}/${hostname()}`,
    ...(c.natsUser !== undefined ? { user: c.natsUser } : {}),
    ...(c.natsPassword !== undefined ? { password: c.natsPassword } : {}),
    ...(c.natsToken !== undefined ? { token: c.natsToken } : {}),
    logger: ctx.logger.child({ component: 'bus' }),
    registry: ctx.registry,
  });
  ctx.addReadinessCheck(
    'nats',
    () => {
      const r = bus.ready();
      if (!r.ok) throw new Error(r.reason ?? 'not connected');
    },
    { gating: false },
  );
  return bus;
}
