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
 * Connects the service to the NATS event bus when --nats-url is set and registers the `nats` readiness
 * check (ready only while connected). The first connect is retried in the background, so the service
 * starts while NATS is down and becomes ready when it is reachable. Returns undefined without --nats-url:
 * NATS only carries hints, and every service still converges from Kubernetes alone.
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
  ctx.addReadinessCheck('nats', () => {
    const r = bus.ready();
    if (!r.ok) throw new Error(r.reason ?? 'not connected');
  });
  return bus;
}
