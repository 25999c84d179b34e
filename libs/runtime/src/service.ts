import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import {
  createLogger,
  createRegistry,
  registerBuildInfo,
  ProbeServer,
  type Logger,
  type LogLevel,
  type CheckOptions,
  type ReadinessCheck,
  type Registry,
} from '@strait/observability';
import {
  ConfigError,
  HelpRequested,
  describeConfig,
  formatDuration,
  formatHostPort,
  formatUsage,
  parseConfig,
  type ConfigSpec,
  type ConfigValues,
  type HostPort,
  type Option,
  type OptionsRecord,
} from './config.ts';

/** Options runService reads itself (see serviceOptions()). */
export type ServiceOptionsRecord = OptionsRecord & {
  logLevel: Option<LogLevel, true>;
  probeAddr: Option<HostPort, true>;
  shutdownTimeout: Option<number, true>;
};

export interface ServiceContext<C> {
  readonly name: string;
  readonly version: string;
  readonly config: C;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly probes: ProbeServer;
  /** Registers a named /readyz check (the process is ready when every gating check passes; `gating: false` only reports). */
  addReadinessCheck(name: string, check: ReadinessCheck, opts?: CheckOptions): void;
  /** Aborted when shutdown begins. */
  readonly signal: AbortSignal;
}

export interface ServiceHandle {
  /**
   * Graceful stop, called once on SIGTERM/SIGINT and bounded by --shutdown-timeout: release Leases,
   * stop informers and watches, close connections.
   *
   * It MUST NOT tear down the datapath. Network namespaces, veth pairs, tunnel links, WireGuard keys,
   * routes, policy rules and nftables state stay exactly as they are, so traffic keeps flowing while
   * the process is away and its successor adopts that state instead of rebuilding it.
   */
  stop(): Promise<void>;
}

export interface ServiceDefinition<O extends ServiceOptionsRecord> {
  name: string;
  version: string;
  /** One paragraph for --help. */
  summary?: string;
  configSpec: ConfigSpec<O>;
  start(ctx: ServiceContext<ConfigValues<O>>): Promise<ServiceHandle> | ServiceHandle;
}

export interface ServiceIO {
  argv: readonly string[];
  env: Record<string, string | undefined>;
  stdout: Writable;
  stderr: Writable;
  /** Where JSON logs go (default: stdout, synchronously). */
  logDestination?: Writable;
}

export interface RunningService<C> {
  readonly ctx: ServiceContext<C>;
  /** Where the probe server listens (the real port when 0 was asked for). */
  readonly probeAddress: HostPort;
  /** Graceful shutdown; resolves with the exit code (0, or 1 when stop failed or exceeded the timeout). */
  shutdown(reason: string): Promise<number>;
}

export type LaunchResult<C> = { running: RunningService<C> } | { exitCode: number };

/**
 * Parses the configuration, creates logger, metrics registry and probe server, and starts the service.
 * Returns the running service, or the exit code when it must not run (help: 0, bad config: 2, start failure: 1).
 */
export async function launchService<O extends ServiceOptionsRecord>(def: ServiceDefinition<O>, io: ServiceIO): Promise<LaunchResult<ConfigValues<O>>> {
  if (io.argv.includes('--version')) {
    io.stdout.write(`${def.name} ${def.version}\n`);
    return { exitCode: 0 };
  }
  let config: ConfigValues<O>;
  try {
    config = parseConfig(def.configSpec, io.argv, io.env);
  } catch (err) {
    if (err instanceof HelpRequested) {
      const extra: Array<[string, string]> = [['--version', 'print the version']];
      io.stdout.write(formatUsage(def.configSpec, { name: def.name, extra, ...(def.summary ? { summary: def.summary } : {}) }));
      return { exitCode: 0 };
    }
    if (err instanceof ConfigError) {
      io.stderr.write(`${def.name}: ${err.message}\n`);
      return { exitCode: 2 };
    }
    throw err;
  }

  const logger = createLogger({ name: def.name, level: config.logLevel, ...(io.logDestination ? { destination: io.logDestination } : {}) });
  const registry = createRegistry();
  registerBuildInfo(registry, { service: def.name, version: def.version });
  const probes = new ProbeServer({ registry });
  let started = false;
  probes.addCheck('started', () => {
    if (!started) throw new Error('still starting');
  });

  let probeAddress: HostPort;
  try {
    probeAddress = await probes.listen(config.probeAddr.host, config.probeAddr.port);
  } catch (err) {
    logger.error({ err, probeAddr: formatHostPort(config.probeAddr) }, 'cannot listen on the probe address');
    await probes.close().catch(() => undefined);
    return { exitCode: 1 };
  }

  const abort = new AbortController();
  const ctx: ServiceContext<ConfigValues<O>> = {
    name: def.name,
    version: def.version,
    config,
    logger,
    registry,
    probes,
    addReadinessCheck: (name, check, opts) => probes.addCheck(name, check, opts),
    signal: abort.signal,
  };

  logger.info({ version: def.version, probeAddr: formatHostPort(probeAddress) }, 'probe server listening');
  let handle: ServiceHandle;
  try {
    handle = await def.start(ctx);
  } catch (err) {
    logger.error({ err }, 'start failed');
    abort.abort();
    await probes.close().catch(() => undefined);
    return { exitCode: 1 };
  }
  started = true;
  logger.info({ version: def.version, probeAddr: formatHostPort(probeAddress), config: describeConfig(def.configSpec, config) }, 'started');

  let shutdown: Promise<number> | undefined;
  const running: RunningService<ConfigValues<O>> = {
    ctx,
    probeAddress,
    shutdown(reason) {
      shutdown ??= (async () => {
        const t0 = performance.now();
        logger.info({ reason }, 'shutting down (the datapath stays in place)');
        probes.markShuttingDown();
        abort.abort();
        let code = 0;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), config.shutdownTimeout);
        });
        try {
          const r = await Promise.race([handle.stop().then(() => 'stopped' as const), timeout]);
          if (r === 'timeout') {
            logger.error({ shutdownTimeout: formatDuration(config.shutdownTimeout) }, 'stop did not finish within the shutdown timeout');
            code = 1;
          }
        } catch (err) {
          logger.error({ err }, 'stop failed');
          code = 1;
        } finally {
          clearTimeout(timer);
        }
        await probes.close().catch((err: unknown) => logger.warn({ err }, 'closing the probe server failed'));
        logger.info({ exitCode: code, durationSeconds: Math.round(performance.now() - t0) / 1000 }, 'stopped');
        return code;
      })();
      return shutdown;
    },
  };
  return { running };
}

/**
 * Runs a service as this process: launchService() with the process's argv/env, then waits for
 * SIGTERM/SIGINT and shuts down gracefully (exit 0; 1 when stop fails or exceeds --shutdown-timeout;
 * a second signal exits 1 at once). Bad configuration prints `<name>: <reason>` to stderr and exits 2.
 * Unhandled rejections and uncaught exceptions are logged and exit 1.
 *
 * Stopping never tears down kernel state (see ServiceHandle.stop).
 */
export async function runService<O extends ServiceOptionsRecord>(def: ServiceDefinition<O>): Promise<void> {
  const state: { logger?: Logger; running?: RunningService<ConfigValues<O>>; signalled?: NodeJS.Signals } = {};

  const fatal = (what: string) => (err: unknown) => {
    if (state.logger) state.logger.fatal({ err }, what);
    else process.stderr.write(`${def.name}: ${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  };
  process.on('unhandledRejection', fatal('unhandled promise rejection'));
  process.on('uncaughtException', fatal('uncaught exception'));

  const onSignal = (sig: NodeJS.Signals) => {
    if (state.signalled) {
      state.logger?.warn({ signal: sig }, 'second signal: exiting at once');
      process.exit(1);
    }
    state.signalled = sig;
    if (state.running) void state.running.shutdown(sig).then((code) => process.exit(code));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const result = await launchService(def, { argv: process.argv.slice(2), env: process.env, stdout: process.stdout, stderr: process.stderr });
  if ('exitCode' in result) {
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    process.exitCode = result.exitCode;
    return;
  }
  const { running } = result;
  state.running = running;
  state.logger = running.ctx.logger;
  // a signal that arrived while starting: shut down now
  if (state.signalled) void running.shutdown(state.signalled).then((code) => process.exit(code));
}

/** The `version` of the package.json at `url` (e.g. `new URL('../package.json', import.meta.url)`). */
export function packageVersion(url: URL): string {
  const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}
