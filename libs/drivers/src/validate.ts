import { canonicalIp, parsePrefix, prefixContains, prefixesOverlap, type Prefix } from './cidr.ts';
import { BACKENDS, DriverConfigError, type Backend, type PeerSpec } from './types.ts';

/** A peer spec after validation: canonical addresses and prefixes. */
export interface NormalizedPeer<B extends Backend = Backend> {
  readonly spec: PeerSpec<B>;
  readonly clusterId: string;
  readonly endpointIp: string;
  readonly endpointPort: number;
  readonly remoteSubnets: readonly Prefix[];
  readonly localSubnets: readonly Prefix[];
}

const CLUSTER_ID = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;

export function checkClusterId(backend: string, field: string, id: unknown): string {
  if (typeof id !== 'string' || !CLUSTER_ID.test(id)) {
    throw new DriverConfigError(backend, field, `${JSON.stringify(id)} is not a cluster id (lower-case DNS label characters, 1-63)`);
  }
  return id;
}

export function checkPort(backend: string, field: string, port: unknown): number {
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) {
    throw new DriverConfigError(backend, field, `${JSON.stringify(port)} is not a port number (1-65535)`);
  }
  return port as number;
}

function checkPrefixes(backend: string, field: string, list: unknown, allowEmpty: boolean): Prefix[] {
  if (!Array.isArray(list)) throw new DriverConfigError(backend, field, 'must be a list of CIDR prefixes');
  if (!allowEmpty && list.length === 0) throw new DriverConfigError(backend, field, 'must name at least one CIDR prefix');
  const out = list.map((c: unknown, i) => {
    const p = typeof c === 'string' ? parsePrefix(c) : undefined;
    if (!p) throw new DriverConfigError(backend, `${field}[${i}]`, `${JSON.stringify(c)} is not a CIDR prefix with host bits zero`);
    return p;
  });
  for (let i = 0; i < out.length; i++) {
    for (let j = i + 1; j < out.length; j++) {
      if (prefixesOverlap(out[i]!, out[j]!)) throw new DriverConfigError(backend, field, `${out[i]!.text} and ${out[j]!.text} overlap`);
    }
  }
  return out;
}

/** Validates the backend-independent parts of a peer spec. */
export function normalizePeer<B extends Backend>(backend: B, spec: PeerSpec, defaultPort: number): NormalizedPeer<B> {
  if (!spec || typeof spec !== 'object') throw new DriverConfigError(backend, 'peer', 'missing peer spec');
  const clusterId = checkClusterId(backend, 'clusterId', spec.clusterId);
  if (spec.backend !== backend) {
    throw new DriverConfigError(backend, 'backend', `peer ${clusterId} asks for backend ${JSON.stringify(spec.backend)}, this driver is ${backend}`);
  }
  const endpointIp = canonicalIp(spec.endpoint?.ip);
  if (!endpointIp) throw new DriverConfigError(backend, 'endpoint.ip', `${JSON.stringify(spec.endpoint?.ip)} is not an IP address`);
  const endpointPort = spec.endpoint.port === undefined ? defaultPort : checkPort(backend, 'endpoint.port', spec.endpoint.port);
  const remoteSubnets = checkPrefixes(backend, 'remoteSubnets', spec.remoteSubnets, false);
  const localSubnets = checkPrefixes(backend, 'localSubnets', spec.localSubnets, true);
  for (const r of remoteSubnets) {
    for (const l of localSubnets) {
      if (prefixesOverlap(r, l)) throw new DriverConfigError(backend, 'remoteSubnets', `${r.text} overlaps local subnet ${l.text} (remap overlapping CIDRs first)`);
    }
  }
  if (spec.healthCheck) {
    const { localIp, remoteIp } = spec.healthCheck;
    if (!canonicalIp(localIp)) throw new DriverConfigError(backend, 'healthCheck.localIp', `${JSON.stringify(localIp)} is not an IP address`);
    if (!canonicalIp(remoteIp)) throw new DriverConfigError(backend, 'healthCheck.remoteIp', `${JSON.stringify(remoteIp)} is not an IP address`);
    if (!remoteSubnets.some((p) => prefixContains(p, remoteIp))) {
      throw new DriverConfigError(backend, 'healthCheck.remoteIp', `${remoteIp} is not inside remoteSubnets`);
    }
    if (localSubnets.length > 0 && !localSubnets.some((p) => prefixContains(p, localIp))) {
      throw new DriverConfigError(backend, 'healthCheck.localIp', `${localIp} is not inside localSubnets`);
    }
  }
  if (!spec.backendConfig || typeof spec.backendConfig !== 'object') throw new DriverConfigError(backend, 'backendConfig', 'missing');
  return { spec: spec as PeerSpec<B>, clusterId, endpointIp, endpointPort, remoteSubnets, localSubnets };
}

/**
 * Rejects a peer whose remote subnets overlap another peer's: the kernel would route (WireGuard: accept) the
 * overlapping range for one of them only. Checked before anything is changed.
 */
export function assertNoOverlap(backend: string, peer: NormalizedPeer, others: Iterable<{ clusterId: string; remoteSubnets: readonly Prefix[] }>): void {
  for (const other of others) {
    if (other.clusterId === peer.clusterId) continue;
    for (const mine of peer.remoteSubnets) {
      for (const theirs of other.remoteSubnets) {
        if (prefixesOverlap(mine, theirs)) {
          throw new DriverConfigError(backend, 'remoteSubnets', `${mine.text} of peer ${peer.clusterId} overlaps ${theirs.text} of peer ${other.clusterId}`);
        }
      }
    }
  }
}

export function isBackend(name: string): name is Backend {
  return (BACKENDS as readonly string[]).includes(name);
}
