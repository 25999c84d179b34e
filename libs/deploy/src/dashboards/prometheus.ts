import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

/**
 * Debian's Prometheus (package `prometheus`: /usr/bin/prometheus and /usr/bin/promtool) run privately for a
 * test: scrapes the given targets every 2 seconds into its own TSDB, and evaluates PromQL
 * through `promtool query instant`, exactly as Grafana would ask it.
 */
export const PROMETHEUS_BIN = process.env['STRAIT_PROMETHEUS'] ?? '/usr/bin/prometheus';
export const PROMTOOL_BIN = process.env['STRAIT_PROMTOOL'] ?? '/usr/bin/promtool';

export interface ScrapeTarget {
  /** host:port */
  readonly address: string;
  /** Extra labels of the target (e.g. namespace, service). */
  readonly labels: Record<string, string>;
  readonly job: string;
}

export interface PromtoolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function promtool(args: readonly string[], input?: string): Promise<PromtoolResult> {
  return new Promise((resolve) => {
    const child = execFile(PROMTOOL_BIN, [...args], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

export class LocalPrometheus {
  readonly url: string;
  readonly #dir: string;
  readonly #child: ChildProcess;
  #log = '';

  private constructor(url: string, dir: string, child: ChildProcess) {
    this.url = url;
    this.#dir = dir;
    this.#child = child;
    child.stderr?.setEncoding('utf8').on('data', (c: string) => {
      if (this.#log.length < 200_000) this.#log += c;
    });
  }

  /** Starts Prometheus on 127.0.0.1:port scraping `targets` every second; resolves once it is ready. */
  static async start(port: number, targets: readonly ScrapeTarget[]): Promise<LocalPrometheus> {
    const dir = mkdtempSync(join(tmpdir(), 'strait-prometheus-'));
    const byJob = new Map<string, ScrapeTarget[]>();
    for (const t of targets) byJob.set(t.job, [...(byJob.get(t.job) ?? []), t]);
    const config = {
      global: { scrape_interval: '2s', scrape_timeout: '2s', evaluation_interval: '2s' },
      scrape_configs: [...byJob].map(([job, ts]) => ({ job_name: job, static_configs: ts.map((t) => ({ targets: [t.address], labels: t.labels })) })),
    };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    const check = await promtool(['check', 'config', join(dir, 'prometheus.yml')]);
    if (check.code !== 0) throw new Error(`promtool check config: ${check.stdout}${check.stderr}`);
    const child = spawn(
      PROMETHEUS_BIN,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const p = new LocalPrometheus(`http://127.0.0.1:${port}`, dir, child);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${p.#log.slice(-2000)}`);
      try {
        if ((await fetch(`${p.url}/-/ready`)).status === 200) return p;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`prometheus not ready in 60 s: ${p.#log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Scrape health of every target (job, instance, health, lastError). */
  async targets(): Promise<Array<{ job: string; instance: string; health: string; lastError: string }>> {
    const body = (await (await fetch(`${this.url}/api/v1/targets`)).json()) as {
      data: { activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }> };
    };
    return body.data.activeTargets.map((t) => ({ job: t.labels['job'] ?? '', instance: t.labels['instance'] ?? '', health: t.health, lastError: t.lastError }));
  }

  /** Evaluates an expression with `promtool query instant` (JSON out); throws with promtool's error. */
  async query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
    const r = await promtool(['query', 'instant', '-o', 'json', this.url, expr]);
    if (r.code !== 0) throw new Error(`promtool query instant ${JSON.stringify(expr)}: ${(r.stderr || r.stdout).trim()}`);
    const parsed = JSON.parse(r.stdout) as unknown;
    // promtool prints the result vector (or a scalar as [t, v]).
    if (Array.isArray(parsed) && (parsed.length === 0 || typeof parsed[0] === 'object')) return parsed as Array<{ metric: Record<string, string>; value: [number, string] }>;
    return [{ metric: {}, value: parsed as [number, string] }];
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null) {
      const exited = new Promise((r) => this.#child.once('exit', r));
      this.#child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
