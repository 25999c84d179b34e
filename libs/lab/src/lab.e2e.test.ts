import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { labDown, labLogs, labStatus, labUp } from './client.ts';
import { allPids, pidAlive, readState } from './state.ts';
import { labFiles } from './paths.ts';

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { stream, get text() { return text; } };
}

describe('straitctl lab (one member cluster)', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'strait-lab-e2e-')), 'lab');
  let pids: number[] = [];
  let netnsPrefix = '';
  const labNamespaces = () =>
    execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((n) => netnsPrefix !== '' && n.startsWith(`${netnsPrefix}-`));

  afterAll(async () => {
    // Whatever happened above, leave nothing behind.
    await labDown(dir, { stdout: capture().stream, stderr: capture().stream });
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('comes up with every service ready and prints where things are', async () => {
    const out = capture();
    const err = capture();
    const code = await labUp(dir, { clusters: 1 }, { stdout: out.stream, stderr: err.stream });
    expect(err.text).toBe('');
    expect(code).toBe(0);
    expect(out.text).toContain('lab ready in');
    expect(out.text).toMatch(/broker\s+broker\s+https:\/\/127\.0\.0\.1:\d+/);
    for (const svc of ['tunnel-operator', 'natmapping-operator', 'route-agent', 'labeler-operator', 'broker-sync']) {
      expect(out.text).toMatch(new RegExp(`cluster-1\\s+${svc}\\s+\\d+\\s+ready\\s+http://127\\.0\\.0\\.1:\\d+/metrics`));
    }
    const state = readState(labFiles(dir).state)!;
    pids = allPids(state);
    netnsPrefix = state.netnsPrefix ?? '';
    // The gateway node's namespace, and the gateway namespace the tunnel-operator made in it.
    expect(labNamespaces()).toEqual(expect.arrayContaining([`${netnsPrefix}-c1-gw1`]));
    expect(pids.length).toBeGreaterThanOrEqual(5 + 4); // 5 services + etcd/apiserver ×2 + kcm + nats
  });

  it('reports the running lab instead of starting a second one', async () => {
    const out = capture();
    const before = readState(labFiles(dir).state)!;
    expect(await labUp(dir, { clusters: 3 }, { stdout: out.stream, stderr: capture().stream })).toBe(0);
    expect(out.text).toContain('A lab is already running');
    expect(readState(labFiles(dir).state)!.daemonPid).toBe(before.daemonPid);
  });

  it('status --json says ready; a service metrics endpoint serves conventional metrics', async () => {
    const out = capture();
    expect(await labStatus(dir, { json: true }, { stdout: out.stream, stderr: capture().stream })).toBe(0);
    const status = JSON.parse(out.text) as { running: boolean; phase: string; services: Array<{ ready: boolean; probe: string }> };
    expect(status.running).toBe(true);
    expect(status.phase).toBe('ready');
    expect(status.services.every((s) => s.ready)).toBe(true);
    const metrics = await (await fetch(`${status.services[0]!.probe}/metrics`)).text();
    expect(metrics).toContain('process_resident_memory_bytes');
    expect(metrics).toContain('strait_build_info');
  });

  it('shows a service log and names the services when asked for an unknown one', async () => {
    const out = capture();
    expect(labLogs(dir, 'route-agent', { lines: 5 }, { stdout: out.stream, stderr: capture().stream })).toBe(0);
    expect(out.text).toContain('"msg":"started"');
    expect(out.text).not.toMatch(/"natsPassword":"(?!\[redacted\])/);
    const err = capture();
    expect(labLogs(dir, 'nope', { lines: 5 }, { stdout: capture().stream, stderr: err.stream })).toBe(1);
    expect(err.text).toContain('Services: ');
  });

  it('down ends every process and removes every file it made', async () => {
    const out = capture();
    expect(await labDown(dir, { stdout: out.stream, stderr: capture().stream })).toBe(0);
    expect(out.text).toMatch(/Lab stopped: \d+ processes ended/);
    expect(pids.filter(pidAlive)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect(labNamespaces()).toEqual([]);
  });
});
