import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Arg, CommandRunner } from '../exec.ts';
import { decodeKey, isValidKey, isZeroKey, keyFingerprint, publicKeyFromPrivate, validateKey } from './keys.ts';
import { validateWgAllowedIp, validateWgEndpoint } from './uapi.ts';
import { WireGuardError, type WgDeviceConfig, type WgDeviceState, type WgPeerConfig, type WgPeerState, type WireGuardControl } from './types.ts';

/**
 * WireGuardControl through the `wg` tool: the kernel implementation (and any userspace one whose socket
 * `wg` can see). Keys never go on the command line: `wg` reads the private key and pre-shared keys from
 * files, written for the one invocation into a fresh private directory (0700, file 0600) and removed
 * right after. (`/dev/stdin` does not work: Node's child stdin is a socket, which `wg` cannot fopen.)
 * Public keys are public.
 */
export class WgCli implements WireGuardControl {
  readonly ifname: string;
  private readonly runner: CommandRunner;
  private readonly netns: string | undefined;

  constructor(ifname: string, runner: CommandRunner, netns?: string) {
    this.ifname = ifname;
    this.runner = runner;
    this.netns = netns;
  }

  private opts() {
    return this.netns ? { netns: this.netns } : {};
  }

  /** Runs `wg` with a secret in a short-lived private file whose path replaces `@SECRET@` in args. */
  private async withSecretFile(args: readonly Arg[], secret: string): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'strait-wg-'));
    try {
      const file = join(dir, 'key');
      writeFileSync(file, `${secret}\n`, { mode: 0o600 });
      await this.runner.run('wg', args.map((a) => (a === '@SECRET@' ? file : a)), this.opts());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async get(): Promise<WgDeviceState> {
    const { stdout } = await this.runner.run('wg', ['show', this.ifname, 'dump'], this.opts());
    return parseWgDump(stdout, this.ifname);
  }

  async set(config: WgDeviceConfig): Promise<void> {
    // Validate everything before the first command: bad input changes nothing.
    const peers = (config.peers ?? []).map((p, i) => checkPeer(p, `peers[${i}]`));
    if (config.privateKey !== undefined) decodeKey(config.privateKey, 'privateKey');

    let current: WgDeviceState | undefined;
    const needCurrent = config.replacePeers || peers.some((p) => p.updateOnly || (!p.replaceAllowedIps && p.allowedIps?.length));
    if (needCurrent) current = await this.get();

    const head: Arg[] = ['set', this.ifname];
    if (config.listenPort !== undefined) head.push('listen-port', String(config.listenPort));
    if (config.fwmark !== undefined) head.push('fwmark', config.fwmark === 0 ? 'off' : String(config.fwmark));
    if (config.privateKey !== undefined) {
      await this.withSecretFile([...head, 'private-key', '@SECRET@'], config.privateKey);
    } else if (head.length > 2) {
      await this.runner.run('wg', head, this.opts());
    }

    const listed = new Set(peers.map((p) => p.publicKey));
    const plain: Arg[] = [];
    if (config.replacePeers && current) {
      for (const p of current.peers) if (!listed.has(p.publicKey)) plain.push('peer', p.publicKey, 'remove');
    }
    for (const peer of peers) {
      const existing = current?.peers.find((p) => p.publicKey === peer.publicKey);
      if (peer.updateOnly && !existing) continue;
      const args: Arg[] = ['peer', peer.publicKey];
      if (peer.remove) {
        plain.push(...args, 'remove');
        continue;
      }
      if (peer.endpoint !== undefined) args.push('endpoint', peer.endpoint);
      if (peer.persistentKeepalive !== undefined) args.push('persistent-keepalive', peer.persistentKeepalive === 0 ? 'off' : String(peer.persistentKeepalive));
      if (peer.allowedIps !== undefined || peer.replaceAllowedIps) {
        const ips = peer.replaceAllowedIps ? [...(peer.allowedIps ?? [])] : [...new Set([...(existing?.allowedIps ?? []), ...(peer.allowedIps ?? [])])];
        args.push('allowed-ips', ips.join(','));
      }
      if (peer.presharedKey === null) args.push('preshared-key', '/dev/null');
      if (typeof peer.presharedKey === 'string') {
        await this.withSecretFile(['set', this.ifname, ...args, 'preshared-key', '@SECRET@'], peer.presharedKey);
      } else {
        plain.push(...args);
      }
    }
    if (plain.length > 0) await this.runner.run('wg', ['set', this.ifname, ...plain], this.opts());
  }
}

function checkPeer(peer: WgPeerConfig, field: string): WgPeerConfig {
  validateKey(peer.publicKey, `${field}.publicKey`);
  if (typeof peer.presharedKey === 'string') decodeKey(peer.presharedKey, `${field}.presharedKey`);
  if (peer.endpoint !== undefined) validateWgEndpoint(peer.endpoint, `${field}.endpoint`);
  for (const ip of peer.allowedIps ?? []) validateWgAllowedIp(ip, `${field}.allowedIps`);
  if (peer.persistentKeepalive !== undefined && !(Number.isInteger(peer.persistentKeepalive) && peer.persistentKeepalive >= 0 && peer.persistentKeepalive <= 65535)) {
    throw new Error(`${field}.persistentKeepalive: ${peer.persistentKeepalive} is not an integer in 0..65535`);
  }
  return peer;
}

/**
 * Parses `wg show <if> dump`: the interface line (private-key public-key listen-port fwmark), then one line per
 * peer (public-key preshared-key endpoint allowed-ips latest-handshake rx tx persistent-keepalive), tab separated.
 * The private key is dropped here.
 */
export function parseWgDump(text: string, ifname = 'wireguard'): WgDeviceState {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new WireGuardError(ifname, 'wg show dump printed nothing');
  const [privateKey = '', publicKey = '', port = '0', fwmark = 'off'] = lines[0]!.split('\t');
  const peers: WgPeerState[] = lines.slice(1).map((line, i) => {
    const f = line.split('\t');
    if (f.length < 8) throw new WireGuardError(ifname, `wg show dump peer line ${i + 1} has ${f.length} fields, expected 8`);
    const [pub, psk, endpoint, allowed, handshake, rx, tx, keepalive] = f as [string, string, string, string, string, string, string, string];
    const hs = Number(handshake);
    const hasPsk = psk !== '(none)' && isValidKey(psk) && !isZeroKey(psk);
    return {
      publicKey: pub,
      hasPresharedKey: hasPsk,
      presharedKeyFingerprint: hasPsk ? keyFingerprint(psk) : undefined,
      endpoint: endpoint === '(none)' ? undefined : endpoint,
      allowedIps: allowed === '(none)' || allowed === '' ? [] : allowed.split(','),
      persistentKeepalive: keepalive === 'off' ? 0 : Number(keepalive),
      lastHandshake: hs > 0 ? new Date(hs * 1000) : undefined,
      rxBytes: Number(rx),
      txBytes: Number(tx),
    };
  });
  const derived = privateKey && privateKey !== '(none)' ? publicKeyFromPrivate(privateKey) : undefined;
  return {
    publicKey: publicKey && publicKey !== '(none)' ? publicKey : derived,
    listenPort: Number(port) || 0,
    fwmark: fwmark === 'off' ? 0 : Number(fwmark),
    peers,
  };
}
