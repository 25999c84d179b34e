/**
 * The WireGuard device model shared by the UAPI client (userspace implementations) and the `wg` CLI
 * (kernel implementation). Keys are base64 here; only the wire formats convert them.
 */

export type WireGuardImplementation = 'kernel' | 'wireguard-go' | 'boringtun';
export const WIREGUARD_IMPLEMENTATIONS: readonly WireGuardImplementation[] = ['kernel', 'wireguard-go', 'boringtun'];

export interface WgPeerState {
  readonly publicKey: string;
  /** True when a (non-zero) pre-shared key is set. The key itself is never read back into state. */
  readonly hasPresharedKey: boolean;
  /** One-way fingerprint of the PSK ({@link keyFingerprint}) to detect changes; undefined without a PSK. */
  readonly presharedKeyFingerprint: string | undefined;
  /** `ip:port` or `[ip6]:port`; undefined until known. */
  readonly endpoint: string | undefined;
  readonly allowedIps: readonly string[];
  /** Seconds; 0 = off. */
  readonly persistentKeepalive: number;
  /** Undefined when no handshake has happened yet. */
  readonly lastHandshake: Date | undefined;
  readonly rxBytes: number;
  readonly txBytes: number;
}

export interface WgDeviceState {
  readonly publicKey: string | undefined;
  readonly listenPort: number;
  readonly fwmark: number;
  readonly peers: readonly WgPeerState[];
}

export interface WgPeerConfig {
  readonly publicKey: string;
  /** Remove this peer. */
  readonly remove?: boolean;
  /** Only change the peer if it exists (never create it). */
  readonly updateOnly?: boolean;
  /** Base64 PSK; `null` removes a PSK; undefined leaves it unchanged. */
  readonly presharedKey?: string | null;
  /** `ip:port` or `[ip6]:port`. */
  readonly endpoint?: string;
  readonly persistentKeepalive?: number;
  /** Replace the allowed IPs by `allowedIps` instead of adding to them. */
  readonly replaceAllowedIps?: boolean;
  readonly allowedIps?: readonly string[];
}

export interface WgDeviceConfig {
  readonly privateKey?: string;
  readonly listenPort?: number;
  readonly fwmark?: number;
  /** Remove every peer not listed in `peers`. */
  readonly replacePeers?: boolean;
  readonly peers?: readonly WgPeerConfig[];
}

/** Configures one WireGuard interface, whatever the implementation behind it. */
export interface WireGuardControl {
  readonly ifname: string;
  get(): Promise<WgDeviceState>;
  set(config: WgDeviceConfig): Promise<void>;
}

export class WireGuardError extends Error {
  readonly ifname: string;
  constructor(ifname: string, message: string, options?: ErrorOptions) {
    super(`WireGuard ${ifname}: ${message}`, options);
    this.name = 'WireGuardError';
    this.ifname = ifname;
  }
}
