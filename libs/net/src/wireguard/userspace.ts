import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UapiClient, uapiSocketPath, DEFAULT_UAPI_DIR } from './uapi.ts';
import { WireGuardError } from './types.ts';

/**
 * Supervision of a userspace WireGuard daemon (wireguard-go, or boringtun when installed) for one interface.
 *
 * The daemon runs in the gateway's network namespace (`ip netns exec`), in the foreground
 * (`WG_PROCESS_FOREGROUND=1`), detached from this process so that a restart of Strait leaves the tunnel up
 * (the next process adopts it through the UAPI socket). Its UAPI socket directory is private to Strait:
 * both daemons hard-code `/var/run/wireguard`, so the daemon gets a private mount namespace in which
 * `runDir` is bind-mounted there; two gateways on one machine can then use the same interface name.
 * State (pid, implementation) and the daemon's log live in `runDir` as well.
 */
export type UserspaceImplementation = 'wireguard-go' | 'boringtun';

export interface UserspaceDaemonOptions {
  readonly implementation: UserspaceImplementation;
  readonly ifname: string;
  readonly netns?: string;
  /** Private directory: `<ifname>.sock`, `<ifname>.json` (pid), `<ifname>.log`. */
  readonly runDir: string;
  /** Binary path; default: found in PATH. */
  readonly binary?: string;
  /** Daemon log level (wireguard-go `LOG_LEVEL`): default `error`. */
  readonly logLevel?: 'silent' | 'error' | 'verbose';
  readonly readyTimeoutMs?: number;
}

export interface UserspaceDaemonState {
  readonly pid: number;
  readonly implementation: UserspaceImplementation;
  readonly ifname: string;
  readonly netns: string | undefined;
  readonly startedAt: string;
}

const BINARIES: Record<UserspaceImplementation, readonly string[]> = {
  'wireguard-go': ['wireguard-go'],
  boringtun: ['boringtun-cli', 'boringtun'],
};

/** Finds an executable in PATH (plus the sbin directories), or undefined. */
function findExecutable(names: readonly string[]): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin', '/bin'];
  for (const name of names) {
    for (const dir of dirs) {
      if (!dir) continue;
      const p = join(dir, name);
      try {
        accessSync(p, constants.X_OK);
        return p;
      } catch {
        // keep looking
      }
    }
  }
  return undefined;
}

export function findUserspaceBinary(impl: UserspaceImplementation): string | undefined {
  return findExecutable(BINARIES[impl]);
}

function statePath(runDir: string, ifname: string): string {
  return join(runDir, `${ifname}.json`);
}

export function daemonLogPath(runDir: string, ifname: string): string {
  return join(runDir, `${ifname}.log`);
}

export function readDaemonState(runDir: string, ifname: string): UserspaceDaemonState | undefined {
  try {
    const s = JSON.parse(readFileSync(statePath(runDir, ifname), 'utf8')) as UserspaceDaemonState;
    return Number.isInteger(s.pid) && s.pid > 0 ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is alive and still runs one of the WireGuard daemon binaries (guards against pid reuse). */
export function isDaemonAlive(state: UserspaceDaemonState | undefined): boolean {
  if (!state) return false;
  try {
    const stat = readFileSync(`/proc/${state.pid}/stat`, 'utf8');
    // Field 3 (after the parenthesised comm) is the state; a zombie is dead.
    const after = stat.slice(stat.lastIndexOf(')') + 2);
    if (after.startsWith('Z') || after.startsWith('X')) return false;
    const cmdline = readFileSync(`/proc/${state.pid}/cmdline`, 'utf8');
    return BINARIES[state.implementation].some((b) => cmdline.includes(b)) && cmdline.includes(state.ifname);
  } catch {
    return false;
  }
}

function tail(path: string, lines = 10): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join('; ');
  } catch {
    return '';
  }
}

/**
 * Starts the daemon and waits until its UAPI socket answers. Returns the client for that socket.
 * The caller makes sure no link of that name exists yet.
 */
export async function startUserspaceDaemon(opts: UserspaceDaemonOptions): Promise<{ state: UserspaceDaemonState; control: UapiClient }> {
  const binary = opts.binary ?? findUserspaceBinary(opts.implementation);
  if (!binary) throw new WireGuardError(opts.ifname, `${opts.implementation} is not installed (looked for ${BINARIES[opts.implementation].join(', ')} in PATH)`);
  mkdirSync(opts.runDir, { recursive: true, mode: 0o700 });
  const socket = uapiSocketPath(opts.ifname, opts.runDir);
  rmSync(socket, { force: true });
  const logPath = daemonLogPath(opts.runDir, opts.ifname);
  const log = openSync(logPath, 'a', 0o600);

  const daemonArgs = opts.implementation === 'boringtun' ? ['--foreground', '--disable-drop-privileges', opts.ifname] : [opts.ifname];
  const privateDir = opts.runDir !== DEFAULT_UAPI_DIR && opts.runDir !== '/run/wireguard';
  // Positional parameters keep the paths out of the script text (no quoting issues).
  const inner = privateDir
    ? ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mkdir -p /run/wireguard && mount --bind "$1" /run/wireguard && shift && exec "$@"', 'strait-wg', opts.runDir, binary, ...daemonArgs]
    : [binary, ...daemonArgs];
  const argv = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...inner] : inner;
  const child = spawn(argv[0]!, argv.slice(1), {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: opts.logLevel ?? 'error', WG_SUDO: '1' },
  });
  closeSync(log);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ? `killed by ${signal}` : `exit code ${code}`));
  child.once('error', (err) => (exited = err.message));
  child.unref();
  const state: UserspaceDaemonState = { pid: child.pid ?? -1, implementation: opts.implementation, ifname: opts.ifname, netns: opts.netns, startedAt: new Date().toISOString() };
  writeFileSync(statePath(opts.runDir, opts.ifname), JSON.stringify(state), { mode: 0o600 });

  const control = new UapiClient(opts.ifname, { socketDir: opts.runDir, timeoutMs: 2_000 });
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 10_000);
  for (;;) {
    if (exited) {
      rmSync(statePath(opts.runDir, opts.ifname), { force: true });
      throw new WireGuardError(opts.ifname, `${opts.implementation} exited during start-up (${exited}): ${tail(logPath) || 'no output'}`);
    }
    if (existsSync(socket)) {
      try {
        await control.get();
        return { state, control };
      } catch {
        // socket not accepting yet
      }
    }
    if (Date.now() > deadline) {
      await stopUserspaceDaemon(opts.runDir, opts.ifname);
      throw new WireGuardError(opts.ifname, `${opts.implementation} did not open its UAPI socket ${socket} within ${opts.readyTimeoutMs ?? 10_000} ms: ${tail(logPath) || 'no output'}`);
    }
    await sleep(25);
  }
}

/** Stops the daemon recorded in `runDir` (SIGTERM, then SIGKILL) and removes its socket and state. */
export async function stopUserspaceDaemon(runDir: string, ifname: string, graceMs = 3_000): Promise<void> {
  const state = readDaemonState(runDir, ifname);
  if (state && isDaemonAlive(state)) {
    try {
      process.kill(state.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const deadline = Date.now() + graceMs;
    while (isDaemonAlive(state) && Date.now() < deadline) await sleep(20);
    if (isDaemonAlive(state)) {
      try {
        process.kill(state.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  rmSync(statePath(runDir, ifname), { force: true });
  rmSync(uapiSocketPath(ifname, runDir), { force: true });
  // Logs stay in Strait's private directories for post-mortems, but not in the system's socket directory.
  if (runDir === DEFAULT_UAPI_DIR || runDir === '/run/wireguard') rmSync(daemonLogPath(runDir, ifname), { force: true });
}
