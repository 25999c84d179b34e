import type { GatewayContext } from './context.ts';
import { IpsecDriver, type IpsecDriverConfig } from './ipsec/driver.ts';
import { DriverConfigError, DriverError, type Backend, type CableDriver, type ConnectionStatus, type PeerSpec } from './types.ts';
import { assertNoOverlap, normalizePeer } from './validate.ts';
import { VxlanDriver, type VxlanDriverConfig } from './vxlan/driver.ts';
import { WireGuardDriver, type WireGuardDriverConfig } from './wireguard/driver.ts';

export interface DriverConfigs {
  readonly wireguard?: WireGuardDriverConfig;
  readonly ipsec?: IpsecDriverConfig;
  readonly vxlan?: VxlanDriverConfig;
}

export type DriverFactory = (gateway: GatewayContext, configs: DriverConfigs) => CableDriver;

/** Cable-driver factories keyed by backend name. */
export class DriverRegistry {
  private readonly factories = new Map<string, DriverFactory>();

  register(backend: string, factory: DriverFactory): this {
    if (!/^[a-z][a-z0-9-]*$/.test(backend)) throw new Error(`driver registry: '${backend}' is not a backend name`);
    if (this.factories.has(backend)) throw new Error(`driver registry: backend '${backend}' is registered already`);
    this.factories.set(backend, factory);
    return this;
  }

  has(backend: string): boolean {
    return this.factories.has(backend);
  }

  /** Registered backend names, sorted. */
  known(): string[] {
    return [...this.factories.keys()].sort();
  }

  create(backend: string, gateway: GatewayContext, configs: DriverConfigs = {}): CableDriver {
    const factory = this.factories.get(backend);
    if (!factory) {
      throw new DriverConfigError('registry', 'backend', `unknown backend ${JSON.stringify(backend)}; known backends: ${this.known().join(', ') || 'none'}`);
    }
    return factory(gateway, configs);
  }
}

/** The registry with Strait's three drivers. */
export function defaultRegistry(): DriverRegistry {
  return new DriverRegistry()
    .register('wireguard', (g, c) => {
      if (!c.wireguard) throw new DriverConfigError('wireguard', 'config', 'the wireguard driver needs its configuration (the private key)');
      return new WireGuardDriver(g, c.wireguard);
    })
    .register('ipsec', (g, c) => new IpsecDriver(g, c.ipsec))
    .register('vxlan', (g, c) => new VxlanDriver(g, c.vxlan));
}

/**
 * All cables of one gateway: a driver per backend, created on first use, and the peer → backend choice.
 * One gateway can reach one cluster over WireGuard and another over IPsec at the same time. A peer that
 * changes backend is validated by the new driver, disconnected from the old one, then connected. Remote subnets
 * must not overlap across all peers of all drivers (checked before anything changes).
 */
export class Cables {
  private readonly registry: DriverRegistry;
  private readonly gateway: GatewayContext;
  private readonly configs: DriverConfigs;
  private readonly drivers = new Map<string, CableDriver>();
  private readonly assignment = new Map<string, { backend: string; spec: PeerSpec }>();

  constructor(registry: DriverRegistry, gateway: GatewayContext, configs: DriverConfigs = {}) {
    this.registry = registry;
    this.gateway = gateway;
    this.configs = configs;
  }

  /** The driver of a backend, created (not initialised) on first use. */
  driver(backend: string): CableDriver {
    let d = this.drivers.get(backend);
    if (!d) {
      d = this.registry.create(backend, this.gateway, this.configs);
      this.drivers.set(backend, d);
    }
    return d;
  }

  async connect(spec: PeerSpec): Promise<ConnectionStatus> {
    const backend = spec?.backend as string;
    if (!this.registry.has(backend)) this.registry.create(backend, this.gateway, this.configs); // throws the listing error
    const norm = normalizePeer(backend as Backend, spec, 1);
    assertNoOverlap(
      backend,
      norm,
      [...this.assignment.entries()].map(([clusterId, a]) => ({ clusterId, remoteSubnets: normalizePeer(a.spec.backend, a.spec, 1).remoteSubnets })),
    );
    const previous = this.assignment.get(norm.clusterId);
    const driver = this.driver(backend);
    driver.validate(spec);
    if (previous && previous.backend !== backend) {
      // Routes to the peer's subnets can point into one tunnel only: the old driver lets go first.
      await this.drivers.get(previous.backend)?.disconnect(norm.clusterId);
      this.assignment.delete(norm.clusterId);
    }
    const status = await driver.connect(spec);
    this.assignment.set(norm.clusterId, { backend, spec });
    return status;
  }

  async disconnect(clusterId: string): Promise<void> {
    const a = this.assignment.get(clusterId);
    if (!a) return;
    await this.drivers.get(a.backend)?.disconnect(clusterId);
    this.assignment.delete(clusterId);
  }

  async status(clusterId: string): Promise<ConnectionStatus> {
    const a = this.assignment.get(clusterId);
    if (!a) throw new DriverError('cables', `no peer ${JSON.stringify(clusterId)}`);
    return this.driver(a.backend).status(clusterId);
  }

  async connections(): Promise<ConnectionStatus[]> {
    const out: ConnectionStatus[] = [];
    for (const d of this.drivers.values()) out.push(...(await d.connections()));
    return out.sort((a, b) => a.clusterId.localeCompare(b.clusterId));
  }

  async cleanup(): Promise<void> {
    for (const d of this.drivers.values()) await d.cleanup();
    this.assignment.clear();
  }

  async close(): Promise<void> {
    for (const d of this.drivers.values()) await d.close();
  }
}
