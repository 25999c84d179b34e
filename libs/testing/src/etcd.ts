import { join } from 'node:path';
import { ManagedProcess } from './process.ts';
import { httpProbe } from './probe.ts';

export interface EtcdConfig {
  dataDir: string;
  clientPort: number;
  peerPort: number;
  /** Backend quota; small by default (256 MiB) so a runaway test fails instead of filling the disk. */
  quotaBackendBytes?: number;
}

/**
 * Flags for a single-member, test-only etcd on loopback: no fsync (data lives in a temp dir and is
 * thrown away), a small quota and snapshot count, warnings-only logging.
 */
export function etcdArgs(cfg: EtcdConfig): string[] {
  const client = `http://127.0.0.1:${cfg.clientPort}`;
  const peer = `http://127.0.0.1:${cfg.peerPort}`;
  return [
    '--name=strait',
    `--data-dir=${cfg.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=strait=${peer}`,
    '--initial-cluster-state=new',
    '--unsafe-no-fsync',
    `--quota-backend-bytes=${cfg.quotaBackendBytes ?? 256 * 1024 * 1024}`,
    '--snapshot-count=5000',
    '--auto-compaction-mode=periodic',
    '--auto-compaction-retention=5m',
    '--log-level=warn',
    '--logger=zap',
    '--log-outputs=stderr',
  ];
}

/** One etcd member for one cluster. Data survives stop()/start(). */
export class Etcd {
  readonly config: EtcdConfig;
  readonly process: ManagedProcess;

  constructor(opts: { binary: string; dir: string; clientPort: number; peerPort: number; label: string }) {
    this.config = { dataDir: join(opts.dir, 'etcd-data'), clientPort: opts.clientPort, peerPort: opts.peerPort };
    this.process = new ManagedProcess({
      name: `etcd (${opts.label})`,
      command: opts.binary,
      args: etcdArgs(this.config),
      logFile: join(opts.dir, 'etcd.log'),
    });
  }

  get clientUrl(): string {
    return `http://127.0.0.1:${this.config.clientPort}`;
  }

  async start(timeoutMs = 30_000): Promise<void> {
    this.process.start();
    await this.process.waitReady(
      httpProbe(`${this.clientUrl}/health`, {}, (b) => (JSON.parse(b) as { health?: string }).health === 'true'),
      { timeoutMs },
    );
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.process.stop({ signal, timeoutMs: 5_000 });
  }
}
