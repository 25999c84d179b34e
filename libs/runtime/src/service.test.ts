import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { defineConfig, opt } from './config.ts';
import { serviceOptions } from './options.ts';
import { launchService, type ServiceDefinition, type ServiceIO } from './service.ts';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(c: Buffer | string, _e, cb) {
        chunks.push(c.toString());
        cb();
      },
    }),
    text: () => chunks.join(''),
  };
}

const spec = defineConfig({
  ...serviceOptions({ probePort: 9199 }),
  clusterId: opt.string({ description: 'cluster', required: true }),
  natsPassword: opt.string({ description: 'pw', secret: true }),
});

function io(argv: string[]): ServiceIO & { out: () => string; err: () => string; logs: () => Array<Record<string, unknown>> } {
  const out = sink();
  const err = sink();
  const logs = sink();
  return {
    argv,
    env: {},
    stdout: out.stream,
    stderr: err.stream,
    logDestination: logs.stream,
    out: out.text,
    err: err.text,
    logs: () =>
      logs
        .text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

function def(start: ServiceDefinition<typeof spec.options>['start']): ServiceDefinition<typeof spec.options> {
  return { name: 'test-service', version: '1.2.3', summary: 'A test.', configSpec: spec, start };
}

const okArgs = ['--probe-addr=127.0.0.1:0', '--cluster-id=c1', '--nats-password=S3CRET'];

describe('launchService', () => {
  it('prints usage on --help and exits 0', async () => {
    const i = io(['--help']);
    expect(await launchService(def(() => ({ stop: async () => undefined })), i)).toEqual({ exitCode: 0 });
    expect(i.out()).toContain('Usage: test-service [flags]');
    expect(i.out()).toContain('A test.');
  });

  it('prints the version on --version', async () => {
    const i = io(['--version']);
    expect(await launchService(def(() => ({ stop: async () => undefined })), i)).toEqual({ exitCode: 0 });
    expect(i.out()).toBe('test-service 1.2.3\n');
  });

  it.each([
    [['--probe-addr=nope', '--cluster-id=c1'], 'test-service: --probe-addr: invalid value "nope": must be host:port (e.g. 0.0.0.0:9101)\n'],
    [['--log-level=loud', '--cluster-id=c1'], 'test-service: --log-level: invalid value "loud": must be one of fatal, error, warn, info, debug, trace, silent\n'],
    [[], 'test-service: missing required flag --cluster-id (or env STRAIT_CLUSTER_ID)\n'],
  ])('bad config %j → one line on stderr, exit 2', async (argv, line) => {
    let started = false;
    const i = io(argv);
    const r = await launchService(
      def(() => {
        started = true;
        return { stop: async () => undefined };
      }),
      i,
    );
    expect(r).toEqual({ exitCode: 2 });
    expect(i.err()).toBe(line);
    expect(started).toBe(false);
  });

  it('starts, serves probes, logs started without secrets, and shuts down gracefully', async () => {
    const i = io(okArgs);
    let stopped = false;
    let sawAbort = false;
    const r = await launchService(
      def((ctx) => {
        ctx.addReadinessCheck('dependency', () => undefined);
        ctx.signal.addEventListener('abort', () => (sawAbort = true));
        return {
          stop: async () => {
            stopped = true;
          },
        };
      }),
      i,
    );
    if (!('running' in r)) throw new Error('not running');
    const { running } = r;
    const base = `http://127.0.0.1:${running.probeAddress.port}`;
    expect(running.probeAddress.port).toBeGreaterThan(0);
    const ready = await fetch(`${base}/readyz?verbose`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe('[+]started ok\n[+]dependency ok\nreadyz check passed\n');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^strait_build_info\{service="test-service",version="1\.2\.3"/m);
    expect(metrics).toMatch(/^process_cpu_seconds_total /m);

    const started = i.logs().find((l) => l['msg'] === 'started');
    expect(started).toMatchObject({ service: 'test-service', version: '1.2.3', config: { clusterId: 'c1', natsPassword: '[redacted]', logLevel: 'info', shutdownTimeout: '10s' } });

    expect(await running.shutdown('SIGTERM')).toBe(0);
    expect(stopped).toBe(true);
    expect(sawAbort).toBe(true);
    await expect(fetch(`${base}/livez`)).rejects.toThrow();
    const msgs = i.logs().map((l) => l['msg']);
    expect(msgs).toContain('shutting down (the datapath stays in place)');
    expect(msgs).toContain('stopped');
    const all = JSON.stringify(i.logs());
    expect(all).not.toContain('S3CRET');
  });

  it('is not ready while shutting down', async () => {
    const i = io(okArgs);
    let release: () => void = () => undefined;
    const r = await launchService(def(() => ({ stop: () => new Promise<void>((res) => (release = res)) })), i);
    if (!('running' in r)) throw new Error('not running');
    const done = r.running.shutdown('SIGTERM');
    const res = await fetch(`http://127.0.0.1:${r.running.probeAddress.port}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('[-]shutdown failed');
    release();
    expect(await done).toBe(0);
  });

  it('bounds stop by --shutdown-timeout and exits 1', async () => {
    const i = io([...okArgs, '--shutdown-timeout=100ms']);
    const r = await launchService(def(() => ({ stop: () => new Promise<void>(() => undefined) })), i);
    if (!('running' in r)) throw new Error('not running');
    expect(await r.running.shutdown('SIGTERM')).toBe(1);
    expect(i.logs().some((l) => l['msg'] === 'stop did not finish within the shutdown timeout')).toBe(true);
  });

  it('exits 1 when stop fails', async () => {
    const i = io(okArgs);
    const r = await launchService(def(() => ({ stop: () => Promise.reject(new Error('boom')) })), i);
    if (!('running' in r)) throw new Error('not running');
    expect(await r.running.shutdown('SIGINT')).toBe(1);
  });

  it('exits 1 when start fails, and closes the probe server', async () => {
    const i = io(okArgs);
    const r = await launchService(
      def(() => {
        throw new Error('cannot start');
      }),
      i,
    );
    expect(r).toEqual({ exitCode: 1 });
    expect(i.logs().find((l) => l['msg'] === 'start failed')).toMatchObject({ level: 'error', err: { message: 'cannot start' } });
  });

  it('exits 1 when the probe port is taken', async () => {
    const first = io(okArgs);
    const r = await launchService(def(() => ({ stop: async () => undefined })), first);
    if (!('running' in r)) throw new Error('not running');
    const second = io(['--cluster-id=c1', `--probe-addr=127.0.0.1:${r.running.probeAddress.port}`]);
    expect(await launchService(def(() => ({ stop: async () => undefined })), second)).toEqual({ exitCode: 1 });
    expect(second.logs().find((l) => l['msg'] === 'cannot listen on the probe address')).toBeDefined();
    await r.running.shutdown('test');
  });
});
