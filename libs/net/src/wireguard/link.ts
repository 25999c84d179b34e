import type { CommandRunner } from '../exec.ts';
import { NetCommandError } from '../exec.ts';
import { ALIAS_PREFIX } from '../ownership.ts';
import { WireGuardError, WIREGUARD_IMPLEMENTATIONS, type WgDeviceConfig, type WireGuardControl, type WireGuardImplementation } from './types.ts';
import { UapiClient } from './uapi.ts';
import {
  findUserspaceBinary,
  isDaemonAlive,
  readDaemonState,
  startUserspaceDaemon,
  stopUserspaceDaemon,
  type UserspaceImplementation,
} from './userspace.ts';
import { WgCli } from './wg-cli.ts';

/**
 * One WireGuard interface in a namespace, whichever implementation provides it.
 *
 * `implementation: 'auto'` tries, in order: the kernel (`ip link add type wireguard` succeeds), wireguard-go,
 * boringtun. A forced implementation that is not available is an error. An existing interface that carries
 * Strait's ownership alias is adopted as it is (never recreated); one without the alias is refused.
 */
export type WireGuardImplementationChoice = 'auto' | WireGuardImplementation;

export interface WireGuardLinkOptions {
  readonly ifname: string;
  readonly netns?: string;
  readonly runner: CommandRunner;
  readonly implementation?: WireGuardImplementationChoice;
  /** Private directory for userspace daemons (UAPI sockets, pid files, logs). */
  readonly runDir: string;
  /** Ownership alias written on the link (`strait:<owner>`). */
  readonly alias: string;
  readonly binaries?: Partial<Record<UserspaceImplementation, string>>;
  /**
   * Device settings (private key, listen port) applied to a newly created interface before it goes up, so
   * that the daemon binds its port once instead of rebinding under traffic.
   */
  readonly initialConfig?: WgDeviceConfig;
  /** Userspace daemon log level (default `error`). */
  readonly logLevel?: 'silent' | 'error' | 'verbose';
}

export interface WireGuardLink {
  readonly ifname: string;
  readonly ifindex: number;
  readonly implementation: WireGuardImplementation;
  readonly control: WireGuardControl;
  /** True when the link existed already and was taken over. */
  readonly adopted: boolean;
}

interface LinkInfo {
  ifindex: number;
  ifname: string;
  ifalias?: string;
  mtu: number;
  flags?: string[];
  linkinfo?: { info_kind?: string };
}

async function showLink(runner: CommandRunner, ifname: string, netns?: string): Promise<LinkInfo | undefined> {
  try {
    const { stdout } = await runner.run('ip', ['-d', '-j', 'link', 'show', 'dev', ifname], netns ? { netns } : {});
    const parsed = JSON.parse(stdout || '[]') as LinkInfo[];
    return parsed[0];
  } catch (err) {
    if (err instanceof NetCommandError && /does not exist|Cannot find device/.test(err.stderr)) return undefined;
    throw err;
  }
}

function nsOpts(netns: string | undefined) {
  return netns ? { netns } : {};
}

function checkImplementation(choice: string): WireGuardImplementationChoice {
  if (choice === 'auto' || (WIREGUARD_IMPLEMENTATIONS as readonly string[]).includes(choice)) return choice as WireGuardImplementationChoice;
  throw new Error(`wireguard implementation: '${choice}' is not one of auto, ${WIREGUARD_IMPLEMENTATIONS.join(', ')}`);
}

/** The existing Strait-owned interface, or undefined when there is none. Throws for a foreign one. */
export async function findWireGuardLink(opts: WireGuardLinkOptions): Promise<WireGuardLink | undefined> {
  const info = await showLink(opts.runner, opts.ifname, opts.netns);
  if (!info) return undefined;
  if (info.ifalias !== opts.alias) {
    throw new WireGuardError(
      opts.ifname,
      `an interface of that name exists and is not Strait's (alias ${info.ifalias ? `'${info.ifalias}'` : 'unset'}, expected '${opts.alias}'); refusing to touch it`,
    );
  }
  const kind = info.linkinfo?.info_kind;
  if (kind === 'wireguard') {
    return { ifname: opts.ifname, ifindex: info.ifindex, implementation: 'kernel', control: new WgCli(opts.ifname, opts.runner, opts.netns), adopted: true };
  }
  const state = readDaemonState(opts.runDir, opts.ifname);
  if (kind === 'tun' && state && isDaemonAlive(state)) {
    const control = new UapiClient(opts.ifname, { socketDir: opts.runDir });
    try {
      await control.get();
      return { ifname: opts.ifname, ifindex: info.ifindex, implementation: state.implementation, control, adopted: true };
    } catch {
      // daemon alive but deaf: replace it below
    }
  }
  // An owned interface without a working daemon behind it: remove it, the caller recreates it.
  await removeWireGuardLink(opts);
  return undefined;
}

async function tryKernel(opts: WireGuardLinkOptions): Promise<boolean> {
  try {
    await opts.runner.run('ip', ['link', 'add', 'dev', opts.ifname, 'type', 'wireguard'], nsOpts(opts.netns));
    return true;
  } catch (err) {
    if (err instanceof NetCommandError && /Unknown device type|not supported|Not supported|No such device|Invalid argument/i.test(err.stderr)) return false;
    throw err;
  }
}

/** Finds or creates the interface, owned (alias) and up. */
export async function ensureWireGuardLink(opts: WireGuardLinkOptions): Promise<WireGuardLink> {
  const choice = checkImplementation(opts.implementation ?? 'auto');
  if (!opts.alias.startsWith(ALIAS_PREFIX)) throw new Error(`wireguard link alias '${opts.alias}' must start with '${ALIAS_PREFIX}'`);
  const existing = await findWireGuardLink(opts);
  if (existing) {
    if (choice !== 'auto' && existing.implementation !== choice) {
      throw new WireGuardError(opts.ifname, `exists with implementation ${existing.implementation}, but ${choice} is configured; delete the interface to switch`);
    }
    return existing;
  }

  let implementation: WireGuardImplementation | undefined;
  let control: WireGuardControl | undefined;
  const tried: string[] = [];
  for (const impl of choice === 'auto' ? WIREGUARD_IMPLEMENTATIONS : [choice]) {
    if (impl === 'kernel') {
      if (await tryKernel(opts)) {
        implementation = 'kernel';
        control = new WgCli(opts.ifname, opts.runner, opts.netns);
        break;
      }
      tried.push('kernel (no wireguard link type)');
      continue;
    }
    const binary = opts.binaries?.[impl] ?? findUserspaceBinary(impl);
    if (!binary) {
      tried.push(`${impl} (not installed)`);
      continue;
    }
    const started = await startUserspaceDaemon({ implementation: impl, ifname: opts.ifname, netns: opts.netns, runDir: opts.runDir, binary, logLevel: opts.logLevel });
    implementation = impl;
    control = started.control;
    break;
  }
  if (!implementation || !control) throw new WireGuardError(opts.ifname, `no WireGuard implementation available: ${tried.join(', ')}`);

  try {
    await opts.runner.run('ip', ['link', 'set', 'dev', opts.ifname, 'alias', opts.alias], nsOpts(opts.netns));
    if (opts.initialConfig) await control.set(opts.initialConfig);
    await opts.runner.run('ip', ['link', 'set', 'dev', opts.ifname, 'up'], nsOpts(opts.netns));
    const info = await showLink(opts.runner, opts.ifname, opts.netns);
    if (!info) throw new WireGuardError(opts.ifname, 'interface vanished right after creation');
    return { ifname: opts.ifname, ifindex: info.ifindex, implementation, control, adopted: false };
  } catch (err) {
    await removeWireGuardLink(opts).catch(() => undefined);
    throw err;
  }
}

/** Deletes the interface (only when it is Strait's) and stops a userspace daemon behind it. */
export async function removeWireGuardLink(opts: Pick<WireGuardLinkOptions, 'ifname' | 'netns' | 'runner' | 'runDir' | 'alias'>): Promise<void> {
  const info = await showLink(opts.runner, opts.ifname, opts.netns);
  if (info && info.ifalias === opts.alias) {
    await opts.runner.run('ip', ['link', 'del', 'dev', opts.ifname], nsOpts(opts.netns)).catch((err: unknown) => {
      if (!(err instanceof NetCommandError && /Cannot find device|does not exist/.test(err.stderr))) throw err;
    });
  }
  await stopUserspaceDaemon(opts.runDir, opts.ifname);
}
