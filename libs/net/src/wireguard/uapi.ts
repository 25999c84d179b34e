import { createConnection, isIP } from 'node:net';
import { join } from 'node:path';
import { hexToKey, keyFingerprint, keyToHex, publicKeyFromPrivate } from './keys.ts';
import { WireGuardError, type WgDeviceConfig, type WgDeviceState, type WgPeerState, type WireGuardControl } from './types.ts';

/**
 * The cross-platform WireGuard userspace API: a line protocol over `/var/run/wireguard/<ifname>.sock`.
 *
 *   get=1\n\n              → key=value lines (interface first, then each peer from its public_key line), errno=0\n\n
 *   set=1\n<key=value>\n\n → errno=0\n\n
 *
 * Keys are lower-case hex on this wire. Values are validated before anything is sent; errors name the
 * field, never a key.
 */
export const DEFAULT_UAPI_DIR = '/var/run/wireguard';

export function uapiSocketPath(ifname: string, dir = DEFAULT_UAPI_DIR): string {
  return join(dir, `${ifname}.sock`);
}

/** `192.0.2.1:51820` or `[2001:db8::1]:51820`. */
export function validateWgEndpoint(endpoint: string, field = 'endpoint'): string {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(endpoint ?? '');
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || !host || (m[1] ? isIP(host) !== 6 : isIP(host) !== 4) || !(port >= 1 && port <= 65535)) {
    throw new Error(`${field}: '${endpoint}' is not an endpoint (ip:port or [ipv6]:port)`);
  }
  return endpoint;
}

/** `10.1.0.0/16`, `fd00::/64`; a bare address is taken as a host route. */
export function validateWgAllowedIp(cidr: string, field = 'allowedIps'): string {
  const [addr = '', len, extra] = (cidr ?? '').split('/');
  const family = isIP(addr);
  const max = family === 6 ? 128 : 32;
  const bits = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (family === 0 || extra !== undefined || !(bits >= 0 && bits <= max)) throw new Error(`${field}: '${cidr}' is not an IP prefix`);
  return len === undefined ? `${addr}/${max}` : cidr;
}

function checkUint(value: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new Error(`${field}: ${value} is not an integer in 0..${max}`);
  return value;
}

/** The body of a `set=1` request (without the `set=1` line and the final blank line). */
export function encodeUapiSet(config: WgDeviceConfig): string {
  const lines: string[] = [];
  if (config.privateKey !== undefined) lines.push(`private_key=${keyToHex(config.privateKey, 'privateKey')}`);
  if (config.listenPort !== undefined) lines.push(`listen_port=${checkUint(config.listenPort, 65535, 'listenPort')}`);
  if (config.fwmark !== undefined) lines.push(`fwmark=${checkUint(config.fwmark, 0xffffffff, 'fwmark')}`);
  if (config.replacePeers) lines.push('replace_peers=true');
  (config.peers ?? []).forEach((peer, i) => {
    const f = `peers[${i}]`;
    lines.push(`public_key=${keyToHex(peer.publicKey, `${f}.publicKey`)}`);
    if (peer.remove) {
      lines.push('remove=true');
      return;
    }
    if (peer.updateOnly) lines.push('update_only=true');
    if (peer.presharedKey === null) lines.push(`preshared_key=${'0'.repeat(64)}`);
    else if (peer.presharedKey !== undefined) lines.push(`preshared_key=${keyToHex(peer.presharedKey, `${f}.presharedKey`)}`);
    if (peer.endpoint !== undefined) lines.push(`endpoint=${validateWgEndpoint(peer.endpoint, `${f}.endpoint`)}`);
    if (peer.persistentKeepalive !== undefined) lines.push(`persistent_keepalive_interval=${checkUint(peer.persistentKeepalive, 65535, `${f}.persistentKeepalive`)}`);
    if (peer.replaceAllowedIps) lines.push('replace_allowed_ips=true');
    for (const ip of peer.allowedIps ?? []) lines.push(`allowed_ip=${validateWgAllowedIp(ip, `${f}.allowedIps`)}`);
  });
  return lines.map((l) => `${l}\n`).join('');
}

/** Parses the answer to `get=1` (everything up to and including `errno=`). */
export function parseUapiGet(text: string, ifname = 'wireguard'): WgDeviceState {
  let publicKey: string | undefined;
  let listenPort = 0;
  let fwmark = 0;
  const peers: WgPeerState[] = [];
  type MutablePeer = { -readonly [K in keyof WgPeerState]: WgPeerState[K] } & { allowedIps: string[]; hsSec: number; hsNsec: number };
  let peer: MutablePeer | undefined;
  let errno: number | undefined;
  const flush = (): void => {
    if (!peer) return;
    const { hsSec, hsNsec, ...rest } = peer;
    peers.push({ ...rest, lastHandshake: hsSec > 0 || hsNsec > 0 ? new Date(hsSec * 1000 + Math.floor(hsNsec / 1e6)) : undefined });
    peer = undefined;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new WireGuardError(ifname, `malformed UAPI line (no key=value)`);
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    const num = (): number => {
      const n = Number(value);
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new WireGuardError(ifname, `malformed UAPI value for ${key}`);
      return n;
    };
    switch (key) {
      case 'private_key':
        // Only the public half leaves this function: the private key is never kept in state.
        publicKey = value === '0'.repeat(64) ? undefined : publicFromHex(value, ifname);
        break;
      case 'listen_port':
        listenPort = num();
        break;
      case 'fwmark':
        fwmark = num();
        break;
      case 'public_key':
        flush();
        peer = {
          publicKey: hexToKey(value, 'UAPI public_key'),
          hasPresharedKey: false,
          presharedKeyFingerprint: undefined,
          endpoint: undefined,
          allowedIps: [],
          persistentKeepalive: 0,
          lastHandshake: undefined,
          rxBytes: 0,
          txBytes: 0,
          hsSec: 0,
          hsNsec: 0,
        };
        break;
      case 'errno':
        errno = num();
        break;
      default: {
        if (!peer) break; // unknown interface-level keys are ignored (forward compatible)
        if (key === 'preshared_key') {
          peer.hasPresharedKey = value !== '0'.repeat(64);
          peer.presharedKeyFingerprint = peer.hasPresharedKey ? keyFingerprint(hexToKey(value, 'UAPI preshared_key')) : undefined;
        }
        else if (key === 'endpoint') peer.endpoint = value === '' ? undefined : value;
        else if (key === 'allowed_ip') peer.allowedIps.push(value);
        else if (key === 'persistent_keepalive_interval') peer.persistentKeepalive = num();
        else if (key === 'last_handshake_time_sec') peer.hsSec = num();
        else if (key === 'last_handshake_time_nsec') peer.hsNsec = num();
        else if (key === 'rx_bytes') peer.rxBytes = num();
        else if (key === 'tx_bytes') peer.txBytes = num();
      }
    }
  }
  flush();
  if (errno === undefined) throw new WireGuardError(ifname, 'UAPI answer ended without errno');
  if (errno !== 0) throw new WireGuardError(ifname, `UAPI get failed with errno ${errno}`);
  return { publicKey, listenPort, fwmark, peers };
}

/** Derives the public half so callers can check the configured identity without holding the private key. */
function publicFromHex(hex: string, ifname: string): string {
  try {
    return publicKeyFromPrivate(hexToKey(hex, 'UAPI private_key'));
  } catch {
    throw new WireGuardError(ifname, 'UAPI returned a malformed private_key');
  }
}

export interface UapiClientOptions {
  /** Directory holding `<ifname>.sock` (default /var/run/wireguard). */
  readonly socketDir?: string;
  readonly timeoutMs?: number;
}

/** WireGuardControl over the UAPI socket of a userspace implementation (wireguard-go, boringtun). */
export class UapiClient implements WireGuardControl {
  readonly ifname: string;
  readonly socketPath: string;
  private readonly timeoutMs: number;

  constructor(ifname: string, options: UapiClientOptions = {}) {
    this.ifname = ifname;
    this.socketPath = uapiSocketPath(ifname, options.socketDir);
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  async get(): Promise<WgDeviceState> {
    return parseUapiGet(await this.exchange('get=1\n\n', 'get'), this.ifname);
  }

  async set(config: WgDeviceConfig): Promise<void> {
    const body = encodeUapiSet(config);
    const answer = await this.exchange(`set=1\n${body}\n`, 'set');
    const m = /^errno=(-?\d+)$/m.exec(answer);
    if (!m) throw new WireGuardError(this.ifname, 'UAPI set answered without errno');
    if (m[1] !== '0') throw new WireGuardError(this.ifname, `UAPI set failed with errno ${m[1]}${errnoName(Number(m[1]))}`);
  }

  /** Sends one request and reads until the blank line that ends the answer. */
  private exchange(request: string, op: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path: this.socketPath });
      let data = '';
      let done = false;
      const finish = (err: Error | undefined, value?: string): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve(value!);
      };
      const timer = setTimeout(() => finish(new WireGuardError(this.ifname, `UAPI ${op} got no answer within ${this.timeoutMs} ms (${this.socketPath})`)), this.timeoutMs);
      socket.setEncoding('utf8');
      socket.on('connect', () => socket.write(request));
      socket.on('data', (chunk: string) => {
        data += chunk;
        const end = data.indexOf('\n\n');
        if (end >= 0 && /(^|\n)errno=/.test(data)) finish(undefined, data.slice(0, end + 1));
      });
      socket.on('error', (err: NodeJS.ErrnoException) =>
        finish(
          new WireGuardError(
            this.ifname,
            err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
              ? `UAPI socket ${this.socketPath} unreachable (${err.code}): the userspace WireGuard process is not running`
              : `UAPI ${op} on ${this.socketPath} failed (${err.code ?? err.message})`,
            { cause: err },
          ),
        ),
      );
      socket.on('close', () => finish(new WireGuardError(this.ifname, `UAPI socket closed before the ${op} answer was complete`)));
    });
  }
}

function errnoName(n: number): string {
  const names: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 5: 'EIO', 22: 'EINVAL', 98: 'EADDRINUSE', 105: 'ENOBUFS' };
  const name = names[Math.abs(n)];
  return name ? ` (${name})` : '';
}
