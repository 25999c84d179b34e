/**
 * The cable-driver contract: one driver instance per backend per gateway, many peers per driver.
 * A gateway can run several drivers at once (WireGuard to one cluster, IPsec to another); the
 * registry picks the driver per peer from `PeerSpec.backend`.
 */

export const BACKENDS = ['wireguard', 'ipsec', 'vxlan'] as const;
export type Backend = (typeof BACKENDS)[number];

export type ConnectionState = 'Connecting' | 'Connected' | 'Error';

/** WireGuard per-peer settings (from the remote Endpoint's backend config). */
export interface WireGuardPeerConfig {
  /** The remote cluster's public key, base64. */
  readonly publicKey: string;
  /** Optional pre-shared key, base64 (a secret: never logged). */
  readonly presharedKey?: string;
  /** Seconds, default 25; 0 disables. */
  readonly persistentKeepalive?: number;
}

/** IPsec per-peer settings. */
export interface IpsecPeerConfig {
  /** Pre-shared key for IKE (a secret: never logged). At least 16 characters. */
  readonly psk: string;
  /** IKE identity of the remote gateway; default the remote cluster id. */
  readonly remoteId?: string;
  /** IKE proposals, default `aes256gcm16-prfsha256-x25519`. */
  readonly ikeProposals?: readonly string[];
  /** ESP proposals, default `aes256gcm16`. */
  readonly espProposals?: readonly string[];
}

/** VXLAN per-peer settings (unencrypted: trusted underlays only). */
export interface VxlanPeerConfig {
  /** VXLAN network identifier of this peer's link (1..16777215). */
  readonly vni: number;
}

export interface BackendConfigs {
  readonly wireguard: WireGuardPeerConfig;
  readonly ipsec: IpsecPeerConfig;
  readonly vxlan: VxlanPeerConfig;
}

/** Addresses used for the in-tunnel health probe (ICMP echo from local to remote). */
export interface HealthCheckSpec {
  /** An address of this gateway inside `localSubnets` (the probe's source). */
  readonly localIp: string;
  /** An address inside `remoteSubnets` that answers ICMP echo (the remote gateway's). */
  readonly remoteIp: string;
}

export interface PeerSpec<B extends Backend = Backend> {
  /** The remote cluster's id: the peer's key in the driver, its IKE identity by default. */
  readonly clusterId: string;
  readonly backend: B;
  /** The remote gateway's underlay address and UDP port (default per backend). */
  readonly endpoint: { readonly ip: string; readonly port?: number };
  /** Prefixes reached through this peer (pod/service/external CIDRs of the remote cluster). */
  readonly remoteSubnets: readonly string[];
  /** Local prefixes offered to this peer (IPsec traffic selectors; WireGuard ignores them). */
  readonly localSubnets: readonly string[];
  readonly backendConfig: BackendConfigs[B];
  readonly healthCheck?: HealthCheckSpec;
}

export interface RttStats {
  readonly minMs: number;
  readonly avgMs: number;
  readonly maxMs: number;
  readonly stddevMs: number;
  /** Replies in the window. */
  readonly samples: number;
  /** Lost probes / probes sent in the window, 0..1. */
  readonly loss: number;
  readonly lastReplyAt: string | undefined;
}

export interface ConnectionStatus {
  readonly clusterId: string;
  readonly backend: Backend;
  readonly state: ConnectionState;
  /** Human-readable reason for the state. Never contains secrets. */
  readonly message: string;
  /** The local link carrying the peer's traffic. */
  readonly interface: string | undefined;
  readonly endpoint: string;
  readonly rxBytes: number;
  readonly txBytes: number;
  /** ISO time of the last successful handshake (WireGuard) or IKE establishment (IPsec). */
  readonly lastHandshake: string | undefined;
  readonly rtt: RttStats | undefined;
}

export interface CableDriver {
  readonly backend: Backend;
  /** Checks a peer spec without changing anything; throws DriverConfigError naming the field. */
  validate(peer: PeerSpec): void;
  /** Prepares (or adopts) the shared machinery: link, daemon, nft table. Idempotent. */
  init(): Promise<void>;
  /** Creates or updates one peer; re-applying the same spec changes nothing. */
  connect(peer: PeerSpec): Promise<ConnectionStatus>;
  /** Removes one peer and everything created for it. Unknown peers are a no-op. */
  disconnect(clusterId: string): Promise<void>;
  status(clusterId: string): Promise<ConnectionStatus>;
  connections(): Promise<ConnectionStatus[]>;
  /** Removes everything this driver created (links, daemons, routes, tables), nothing else. */
  cleanup(): Promise<void>;
  /** Stops background work (probes, event streams) and leaves the datapath up (for a graceful restart). */
  close(): Promise<void>;
}

export class DriverError extends Error {
  readonly backend: string;
  constructor(backend: string, message: string, options?: ErrorOptions) {
    super(`${backend} driver: ${message}`, options);
    this.name = 'DriverError';
    this.backend = backend;
  }
}

/** Invalid PeerSpec or driver configuration: nothing was changed. */
export class DriverConfigError extends DriverError {
  readonly field: string;
  constructor(backend: string, field: string, problem: string) {
    super(backend, `${field}: ${problem}`);
    this.name = 'DriverConfigError';
    this.field = field;
  }
}

/** Minimal structured logger (pino-compatible); drivers never pass secrets to it. */
export interface DriverLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

const noop = (): void => undefined;
export const silentLogger: DriverLogger = { info: noop, warn: noop, error: noop, debug: noop };
