import { ToolProcess } from './tool-process.ts';
import type { ProbeResult } from './tools/probe-stats.ts';

/**
 * The 100 packets/s loss probe: udp-probe.ts in the source namespace against udp-echo.ts in the
 * target namespace. This is how datapath loss during a failover is measured: `stop()` returns the
 * longest time between two replies and every loss window, with wall-clock times to line up with the
 * test's own events.
 */

export const DEFAULT_ECHO_PORT = 17007;

export interface ProbeOptions {
  /** Probes per second (default 100). */
  readonly pps?: number;
  /**
   * Namespace that answers (runs the echo responder). Default: the one namespace of the topology
   * that holds the target IP; required when the IP is not unique (overlapping clusters) or not in
   * the topology (a remapped or NATed address).
   */
  readonly toNetns?: string;
  /** UDP port of the echo responder (default {@link DEFAULT_ECHO_PORT}). */
  readonly port?: number;
  /** How long `stop()` waits for replies in flight (default 500 ms). */
  readonly graceMs?: number;
  /** How long to wait for the helpers to start (default 10 s). */
  readonly startTimeoutMs?: number;
}

/** The probe's figures plus send errors (e.g. "Network is unreachable" while a route is missing). */
export type ProbeReport = ProbeResult & { readonly sendErrors: number; readonly lastSendError?: string };

export interface ProbeHandle {
  readonly fromNetns: string;
  readonly toNetns: string;
  readonly toIp: string;
  readonly pps: number;
  /** Resolves at the first reply (the path works); rejects after `timeoutMs` (default 10 s). */
  firstReply(timeoutMs?: number): Promise<void>;
  /** Stops sending, waits for the replies in flight and returns the figures. */
  stop(): Promise<ProbeReport>;
}

export interface ProbeDeps {
  readonly nodeBinary?: string;
  /** Starts (or reuses) the echo responder in a namespace. */
  readonly echo: (netns: string, port: number) => Promise<void>;
  /** Keeps track of the helper so the topology can kill it. */
  readonly track: (p: ToolProcess) => void;
}

export async function startProbeProcess(
  fromNetns: string,
  toNetns: string,
  toIp: string,
  opts: ProbeOptions,
  deps: ProbeDeps,
): Promise<ProbeHandle> {
  const pps = opts.pps ?? 100;
  const port = opts.port ?? DEFAULT_ECHO_PORT;
  const graceMs = opts.graceMs ?? 500;
  const startTimeout = opts.startTimeoutMs ?? 10_000;
  if (!(pps > 0 && pps <= 100_000)) throw new Error(`startProbe: pps ${String(pps)} must be in (0, 100000]`);
  await deps.echo(toNetns, port);
  const proc = new ToolProcess({
    netns: fromNetns,
    script: 'udp-probe.ts',
    args: ['--target', toIp, '--port', String(port), '--pps', String(pps), '--grace-ms', String(graceMs)],
    ...(deps.nodeBinary ? { nodeBinary: deps.nodeBinary } : {}),
  });
  deps.track(proc);
  try {
    await proc.waitFor('ready', startTimeout);
  } catch (e) {
    await proc.kill();
    throw e;
  }
  let stopping: Promise<ProbeReport> | undefined;
  return {
    fromNetns,
    toNetns,
    toIp,
    pps,
    async firstReply(timeoutMs = 10_000) {
      await proc.waitFor('first-reply', timeoutMs);
    },
    stop() {
      stopping ??= (async () => {
        proc.send('stop');
        try {
          const m = await proc.waitFor('result', graceMs + 10_000);
          const { event: _event, ...result } = m;
          return result as unknown as ProbeReport;
        } finally {
          await proc.kill();
        }
      })();
      return stopping;
    },
  };
}
