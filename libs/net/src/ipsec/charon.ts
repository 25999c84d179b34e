import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ViciClient } from '../vici/client.ts';

/**
 * Supervises one charon (the strongSwan IKE daemon) per gateway.
 *
 * charon hard-codes its pid file (`/var/run/charon.pid`) and, by default, its VICI socket, so two charons
 * on one machine (two gateways in a lab, or Strait next to a host's own strongSwan) would collide. Strait
 * therefore runs charon in a private mount namespace in which the gateway's private directory is
 * bind-mounted on `/run`: inside, charon sees `/run/strongswan.conf`, `/run/charon.vici`, `/run/charon.pid`
 * and `/run/charon.log`; outside, they are `<dir>/strongswan.conf`, `<dir>/charon.vici` and so on. The
 * generated strongswan.conf loads only the listed plugins (nothing from /etc/strongswan.d).
 *
 * ESP: `kernel-libipsec` (userspace ESP through a TUN device, `ipsec0`; what this development machine has,
 * since its kernel has no ESP/XFRM) or `kernel-netlink` (the kernel's XFRM, what real nodes use).
 * charon runs inside the gateway's network namespace (`ip netns exec`) and outlives this process: a new
 * process adopts the running charon (same dir, VICI answers) instead of restarting it, so tunnels stay up.
 */
export type IpsecKernelBackend = 'libipsec' | 'netlink';

export interface CharonOptions {
  /** Private directory (mode 0700) for config, socket, pid and log. */
  readonly dir: string;
  readonly netns?: string;
  readonly kernelBackend?: IpsecKernelBackend;
  /** Path of the charon binary; default: found in the usual locations. */
  readonly binary?: string;
  readonly ikePort?: number;
  readonly natTPort?: number;
  /**
   * Whether charon (kernel-netlink) installs routes for its CHILD_SAs (default yes). kernel-libipsec installs its
   * routes through the TUN regardless of this setting, always into `routingTable`.
   */
  readonly installRoutes?: boolean;
  /** Table and rule priority of charon's routes: `from all lookup <table>` at `<priority>` (default 220/220). */
  readonly routingTable?: number;
  readonly routingTablePriority?: number;
  /** charon log level 0..2 (higher levels can print key material and are refused). Default 1. */
  readonly logLevel?: 0 | 1 | 2;
  /** Additional plugins to load. */
  readonly extraPlugins?: readonly string[];
  readonly readyTimeoutMs?: number;
}

export const CHARON_CANDIDATES = ['/usr/lib/ipsec/charon', '/usr/libexec/ipsec/charon', '/usr/lib/strongswan/charon', '/usr/libexec/strongswan/charon'];

/** Plugins for PSK-authenticated IKEv2 with AES-GCM/SHA-2/ECP/X25519, and the chosen kernel interface. */
export function charonPlugins(backend: IpsecKernelBackend, extra: readonly string[] = []): string[] {
  const base = ['random', 'nonce', 'openssl', 'kdf', 'pem', 'pkcs1', 'x509', 'pubkey', 'revocation', 'constraints'];
  // kernel-libipsec must be loaded before kernel-netlink (which still provides routes and addresses).
  const kernel = backend === 'libipsec' ? ['kernel-libipsec', 'kernel-netlink'] : ['kernel-netlink'];
  return [...new Set([...base, ...kernel, 'socket-default', 'vici', ...extra])];
}

/** Debian packages that ship charon plugins beyond strongswan-charon's own (openssl, gcm, curve25519 …). */
const PLUGIN_PACKAGE_HINT = 'on Debian: apt-get install libstrongswan-standard-plugins libcharon-extra-plugins';

/**
 * The plugins of `plugins` that have no shared object in charon's plugin directory (`<binary dir>/plugins`,
 * as Debian and Fedora install them). Empty when the directory does not exist (plugins built into the
 * library, a custom layout): charon's own start-up then says what is missing.
 */
export function missingCharonPlugins(binary: string, plugins: readonly string[]): string[] {
  const dir = join(dirname(binary), 'plugins');
  if (!existsSync(dir)) return [];
  return plugins.filter((p) => p !== 'charon' && !existsSync(join(dir, `libstrongswan-${p}.so`)));
}

export class CharonError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CharonError';
  }
}

export function findCharonBinary(candidates: readonly string[] = CHARON_CANDIDATES): string | undefined {
  for (const p of candidates) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/** The strongswan.conf text, with paths as charon sees them (under its private /run). */
export function renderStrongswanConf(opts: CharonOptions): string {
  const backend = opts.kernelBackend ?? 'libipsec';
  const level = opts.logLevel ?? 1;
  if (![0, 1, 2].includes(level)) throw new CharonError(`charon logLevel ${String(level)} is not 0, 1 or 2 (levels above 2 may log key material)`);
  const installRoutes = opts.installRoutes ?? true;
  const port = opts.ikePort ?? 500;
  const natT = opts.natTPort ?? 4500;
  for (const [name, v] of [['ikePort', port], ['natTPort', natT]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 65535) throw new CharonError(`charon ${name} ${v} is not a port number`);
  }
  for (const p of opts.extraPlugins ?? []) {
    if (!/^[a-z0-9-]+$/.test(p)) throw new CharonError(`charon plugin name '${p}' is invalid`);
  }
  return `# Generated by Strait for one gateway; do not edit (it is rewritten on start).
charon {
  load_modular = no
  load = ${charonPlugins(backend, opts.extraPlugins).join(' ')}
  port = ${port}
  port_nat_t = ${natT}
  install_routes = ${installRoutes ? 'yes' : 'no'}
  routing_table = ${opts.routingTable ?? 220}
  routing_table_prio = ${opts.routingTablePriority ?? 220}
  install_virtual_ip = no
  retransmit_timeout = 2.0
  retransmit_tries = 5
  plugins {
    vici {
      socket = unix:///run/charon.vici
    }
  }
  syslog {
    daemon {
      default = -1
    }
  }
  filelog {
    strait {
      path = /run/charon.log
      time_format = %F %T
      ike_name = yes
      append = yes
      flush_line = yes
      default = ${level}
    }
  }
}
`;
}

interface CharonState {
  readonly pid: number;
  readonly netns: string | undefined;
  readonly kernelBackend: IpsecKernelBackend;
  readonly startedAt: string;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const after = stat.slice(stat.lastIndexOf(')') + 2);
    if (after.startsWith('Z') || after.startsWith('X')) return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('charon');
  } catch {
    return false;
  }
}

export class Charon {
  readonly dir: string;
  readonly socketPath: string;
  readonly logPath: string;
  readonly confPath: string;
  readonly kernelBackend: IpsecKernelBackend;
  private readonly opts: CharonOptions;
  private viciClient: ViciClient | undefined;

  constructor(opts: CharonOptions) {
    this.opts = opts;
    this.dir = opts.dir;
    this.socketPath = join(opts.dir, 'charon.vici');
    this.logPath = join(opts.dir, 'charon.log');
    this.confPath = join(opts.dir, 'strongswan.conf');
    this.kernelBackend = opts.kernelBackend ?? 'libipsec';
    renderStrongswanConf(opts); // validate early
  }

  private get statePath(): string {
    return join(this.dir, 'charon.json');
  }

  private readState(): CharonState | undefined {
    try {
      const s = JSON.parse(readFileSync(this.statePath, 'utf8')) as CharonState;
      return Number.isInteger(s.pid) && s.pid > 0 ? s : undefined;
    } catch {
      return undefined;
    }
  }

  /** The pid of the running charon, if any. */
  get pid(): number | undefined {
    const s = this.readState();
    return s && alive(s.pid) ? s.pid : undefined;
  }

  /** The VICI client for this charon (one per supervisor). */
  vici(): ViciClient {
    if (this.viciClient?.isClosed) this.viciClient = undefined;
    this.viciClient ??= new ViciClient({ socketPath: this.socketPath, commandTimeoutMs: 15_000 });
    return this.viciClient;
  }

  private async answers(): Promise<boolean> {
    const probe = new ViciClient({ socketPath: this.socketPath, connectTimeoutMs: 1_000, commandTimeoutMs: 2_000 });
    try {
      await probe.version();
      return true;
    } catch {
      return false;
    } finally {
      probe.close();
    }
  }

  /**
   * Adopts a running charon of this directory when its VICI socket answers; otherwise (re)starts one.
   * Resolves when VICI answers.
   */
  async start(): Promise<{ adopted: boolean; pid: number }> {
    const state = this.readState();
    if (state && alive(state.pid)) {
      if (state.netns === this.opts.netns && state.kernelBackend === this.kernelBackend && (await this.answers())) return { adopted: true, pid: state.pid };
      await this.stop();
    }
    const binary = this.opts.binary ?? findCharonBinary();
    if (!binary) throw new CharonError(`charon not found (looked in ${CHARON_CANDIDATES.join(', ')}); install strongswan-charon`);
    // charon exits at once when a plugin it must load is missing, with the reason deep in its log: say it here.
    const missing = missingCharonPlugins(binary, charonPlugins(this.kernelBackend, this.opts.extraPlugins));
    if (missing.length > 0) throw new CharonError(`charon plugins not installed: ${missing.join(', ')} (${PLUGIN_PACKAGE_HINT})`);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileSync(this.confPath, renderStrongswanConf(this.opts), { mode: 0o600 });
    for (const f of ['charon.vici', 'charon.pid', 'charon.ctl']) rmSync(join(this.dir, f), { force: true });
    const out = openSync(join(this.dir, 'charon.stdout'), 'a', 0o600);
    const inner = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" /run && shift && exec "$@"', 'strait-charon', this.dir, binary];
    const argv = this.opts.netns ? ['ip', 'netns', 'exec', this.opts.netns, ...inner] : inner;
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', out, out], env: { ...process.env, STRONGSWAN_CONF: '/run/strongswan.conf' } });
    closeSync(out);
    let exited: string | undefined;
    child.once('exit', (code, signal) => (exited = signal ? `killed by ${signal}` : `exit code ${code}`));
    child.once('error', (err) => (exited = err.message));
    child.unref();
    const pid = child.pid ?? -1;
    writeFileSync(this.statePath, JSON.stringify({ pid, netns: this.opts.netns, kernelBackend: this.kernelBackend, startedAt: new Date().toISOString() } satisfies CharonState), { mode: 0o600 });

    const timeout = this.opts.readyTimeoutMs ?? 15_000;
    const deadline = Date.now() + timeout;
    for (;;) {
      if (exited) {
        rmSync(this.statePath, { force: true });
        throw new CharonError(`charon exited during start-up (${exited}): ${this.tail()}`);
      }
      if (await this.answers()) return { adopted: false, pid };
      if (Date.now() > deadline) {
        await this.stop();
        throw new CharonError(`charon did not answer on ${this.socketPath} within ${timeout} ms: ${this.tail()}`);
      }
      await sleep(50);
    }
  }

  /** Stops charon (SIGTERM, then SIGKILL); its SAs and the libipsec TUN go with it. */
  async stop(graceMs = 5_000): Promise<void> {
    this.viciClient?.close();
    this.viciClient = undefined;
    const state = this.readState();
    if (state && alive(state.pid)) {
      try {
        process.kill(state.pid, 'SIGTERM');
      } catch {
        // gone
      }
      const deadline = Date.now() + graceMs;
      while (alive(state.pid) && Date.now() < deadline) await sleep(25);
      if (alive(state.pid)) {
        try {
          process.kill(state.pid, 'SIGKILL');
        } catch {
          // gone
        }
        while (alive(state.pid)) await sleep(10);
      }
    }
    for (const f of ['charon.json', 'charon.vici', 'charon.pid', 'charon.ctl']) rmSync(join(this.dir, f), { force: true });
  }

  /** Last lines of charon's log and stdout, for error messages (charon at level ≤ 2 never logs key material). */
  tail(lines = 8): string {
    const read = (p: string): string[] => {
      try {
        return readFileSync(p, 'utf8').trim().split('\n').filter(Boolean);
      } catch {
        return [];
      }
    };
    const text = [...read(join(this.dir, 'charon.stdout')), ...read(this.logPath)].slice(-lines).join('; ');
    return text || 'no output';
  }
}
