import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServiceProcess, type ExitStatus, type SpawnOptions } from './service-process.ts';

/** What a service's integration test needs from the (shared) control plane. */
export interface ControlPlaneAccess {
  kubeconfigPath: string;
  nats: { url: string; user: string; password: string };
}

export interface LifecycleObservation {
  /** `/readyz?verbose` body once ready. */
  ready: string;
  /** `/metrics` body. */
  metrics: string;
  /** `/livez` answer. */
  livez: { status: number; body: string };
  /** The `started` log line. */
  started: Record<string, unknown>;
  /** Exit after SIGTERM, with how long it took. */
  stop: ExitStatus & { ms: number };
  stdout: string;
  stderr: string;
}

/**
 * Runs a service against a control plane: kubeconfig, NATS with user and a password read from a file,
 * a free probe port on loopback. Waits until ready, reads /livez and /metrics, sends SIGTERM and
 * waits for the exit. The process is killed if anything fails.
 */
export async function observeLifecycle(main: string | URL, cp: ControlPlaneAccess, extraArgs: readonly string[], opts: SpawnOptions = {}): Promise<LifecycleObservation> {
  const dir = mkdtempSync(join(tmpdir(), 'strait-service-'));
  const passwordFile = join(dir, 'nats-password');
  writeFileSync(passwordFile, `${cp.nats.password}\n`, { mode: 0o600 });
  const p = startServiceProcess(
    main,
    [
      `--kubeconfig=${cp.kubeconfigPath}`,
      '--probe-addr=127.0.0.1:0',
      `--nats-url=${cp.nats.url}`,
      `--nats-user=${cp.nats.user}`,
      `--nats-password-file=${passwordFile}`,
      ...extraArgs,
    ],
    opts,
  );
  try {
    const ready = await p.waitForReady(30_000, { informational: true });
    const started = await p.waitForLog('started');
    const livez = await p.get('/livez');
    const metrics = (await p.get('/metrics')).body;
    const stop = await p.stop('SIGTERM', 10_000);
    return { ready, metrics, livez, started, stop, stdout: p.stdout, stderr: p.stderr };
  } catch (err) {
    throw new Error(`${String(err)}\n--- stdout ---\n${p.stdout.slice(-4000)}\n--- stderr ---\n${p.stderr.slice(-2000)}`, { cause: err });
  } finally {
    await p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bad invocations every service must refuse with exit code 2 and one stderr line naming the flag. */
export const BAD_FLAG_CASES: ReadonlyArray<{ args: string[]; flag: string }> = [
  { args: ['--probe-addr=nope'], flag: '--probe-addr' },
  { args: ['--log-level=loud'], flag: '--log-level' },
  { args: ['--shutdown-timeout=soon'], flag: '--shutdown-timeout' },
  { args: ['--nats-url=http://127.0.0.1:4222'], flag: '--nats-url' },
  { args: ['--no-such-flag=1'], flag: '--no-such-flag' },
];
