import { generateKeyPair } from '@strait/net';
import type { GatewayContext } from '../context.ts';
import type { Backend, PeerSpec } from '../types.ts';
import type { GatewayNode } from './topology.ts';

/** Gateway context for a test gateway (fast health probes so tests do not wait long). */
export function gatewayContext(g: GatewayNode, extra: Partial<GatewayContext> = {}): GatewayContext {
  return { clusterId: g.clusterId, netns: g.netns, localIp: g.wanIp, stateDir: g.stateDir, health: { intervalMs: 200, window: 20, failAfter: 5 }, ...extra };
}

export interface TestKeys {
  readonly wireguard: Record<string, { privateKey: string; publicKey: string }>;
  readonly psk: string;
}

export function testKeys(keys: readonly string[]): TestKeys {
  return { wireguard: Object.fromEntries(keys.map((k) => [k, generateKeyPair()])), psk: 'strait-test-psk-0123456789abcdef' };
}

/** The peer spec with which `from` reaches `to`. */
export function peerSpec(backend: Backend, from: GatewayNode, to: GatewayNode, keys: TestKeys, vni = 100): PeerSpec {
  const base = {
    clusterId: to.clusterId,
    endpoint: { ip: to.wanIp },
    remoteSubnets: [to.subnet],
    localSubnets: [from.subnet],
    healthCheck: { localIp: from.podSideIp, remoteIp: to.podSideIp },
  };
  switch (backend) {
    case 'wireguard':
      return { ...base, backend, backendConfig: { publicKey: keys.wireguard[to.key]!.publicKey, persistentKeepalive: 5 } };
    case 'ipsec':
      return { ...base, backend, backendConfig: { psk: keys.psk } };
    case 'vxlan':
      return { ...base, backend, backendConfig: { vni } };
  }
}
