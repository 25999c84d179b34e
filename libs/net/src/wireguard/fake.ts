import { decodeKey, keyFingerprint, publicKeyFromPrivate, validateKey } from './keys.ts';
import { validateWgAllowedIp, validateWgEndpoint } from './uapi.ts';
import type { WgDeviceConfig, WgDeviceState, WgPeerState, WireGuardControl } from './types.ts';

type MutablePeer = { -readonly [K in keyof WgPeerState]: WgPeerState[K] } & { allowedIps: string[] };

/**
 * An in-memory WireGuard device with the UAPI `set` semantics (replace_peers, remove, update_only,
 * replace_allowed_ips, PSK removal with null), for unit tests. Validates like the real clients, keeps no
 * secret in its state (fingerprints only), counts writes, and lets tests simulate a handshake.
 */
export class FakeWireGuardControl implements WireGuardControl {
  readonly ifname: string;
  publicKey: string | undefined;
  listenPort = 0;
  fwmark = 0;
  readonly peers = new Map<string, MutablePeer>();
  sets = 0;

  constructor(ifname = 'wg0') {
    this.ifname = ifname;
  }

  async get(): Promise<WgDeviceState> {
    return { publicKey: this.publicKey, listenPort: this.listenPort, fwmark: this.fwmark, peers: [...this.peers.values()].map((p) => ({ ...p, allowedIps: [...p.allowedIps] })) };
  }

  async set(config: WgDeviceConfig): Promise<void> {
    // Validate the whole request first, as the real clients do.
    if (config.privateKey !== undefined) decodeKey(config.privateKey, 'privateKey');
    (config.peers ?? []).forEach((p, i) => {
      validateKey(p.publicKey, `peers[${i}].publicKey`);
      if (typeof p.presharedKey === 'string') decodeKey(p.presharedKey, `peers[${i}].presharedKey`);
      if (p.endpoint !== undefined) validateWgEndpoint(p.endpoint, `peers[${i}].endpoint`);
      for (const ip of p.allowedIps ?? []) validateWgAllowedIp(ip, `peers[${i}].allowedIps`);
    });
    this.sets++;
    if (config.privateKey !== undefined) this.publicKey = publicKeyFromPrivate(config.privateKey);
    if (config.listenPort !== undefined) this.listenPort = config.listenPort;
    if (config.fwmark !== undefined) this.fwmark = config.fwmark;
    if (config.replacePeers) this.peers.clear();
    for (const p of config.peers ?? []) {
      if (p.remove) {
        this.peers.delete(p.publicKey);
        continue;
      }
      let peer = this.peers.get(p.publicKey);
      if (!peer) {
        if (p.updateOnly) continue;
        peer = { publicKey: p.publicKey, hasPresharedKey: false, presharedKeyFingerprint: undefined, endpoint: undefined, allowedIps: [], persistentKeepalive: 0, lastHandshake: undefined, rxBytes: 0, txBytes: 0 };
        this.peers.set(p.publicKey, peer);
      }
      if (p.presharedKey === null) {
        peer.hasPresharedKey = false;
        peer.presharedKeyFingerprint = undefined;
      } else if (p.presharedKey !== undefined) {
        peer.hasPresharedKey = true;
        peer.presharedKeyFingerprint = keyFingerprint(p.presharedKey);
      }
      if (p.endpoint !== undefined) peer.endpoint = p.endpoint;
      if (p.persistentKeepalive !== undefined) peer.persistentKeepalive = p.persistentKeepalive;
      if (p.replaceAllowedIps) peer.allowedIps = [];
      for (const ip of p.allowedIps ?? []) if (!peer.allowedIps.includes(ip)) peer.allowedIps.push(ip);
    }
  }

  /** Simulates a completed handshake and traffic with a peer. */
  handshake(publicKey: string, at = new Date(), bytes = { rx: 0, tx: 0 }): void {
    const peer = this.peers.get(publicKey);
    if (!peer) throw new Error(`fake WireGuard ${this.ifname}: no peer ${publicKey}`);
    peer.lastHandshake = at;
    peer.rxBytes += bytes.rx;
    peer.txBytes += bytes.tx;
  }
}
