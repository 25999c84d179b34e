import { createServer } from 'node:net';
import { BAD_FLAG_CASES, observeLifecycle, runToExit, startServiceProcess } from '@strait/runtime/testing';
import { sharedControlPlane } from '@strait/testing';
import { describe, expect, it } from 'vitest';

const main = new URL('./main.ts', import.meta.url);
const service = 'route-agent';
const required = ['--cluster-id=it-cluster', '--node-name=it-node-1'];
const badInvocations = [
  ...BAD_FLAG_CASES.map((b) => ({ args: [...required, ...b.args], flag: b.flag })),
  { args: ['--node-name=n'], flag: '--cluster-id' },
  { args: ['--cluster-id=Bad_ID'], flag: '--cluster-id' },
];

describe(`${service} as a process`, () => {
  it('becomes ready against the control plane, serves probes and metrics, exits 0 on SIGTERM', async () => {
    const cp = sharedControlPlane();
    const o = await observeLifecycle(main, cp, [...required]);
    expect(o.ready).toContain('[+]started ok');
    expect(o.ready).toContain('[+]kube-api ok');
    expect(o.ready).toContain('[+]nats ok');
    expect(o.livez).toEqual({ status: 200, body: 'ok' });
    expect(o.metrics).toMatch(/^process_cpu_seconds_total /m);
    expect(o.metrics).toMatch(/^nodejs_heap_size_used_bytes /m);
    expect(o.metrics).toMatch(new RegExp(`^strait_build_info\\{service="${service}",version="\\d+\\.\\d+\\.\\d+"`, 'm'));
    expect(o.started).toMatchObject({ service, config: { clusterId: 'it-cluster', nodeName: 'it-node-1', natsPassword: '[redacted]' } });
    expect(o.stop).toMatchObject({ code: 0, signal: null });
    expect(o.stop.ms).toBeLessThan(5000);
    expect(o.stdout + o.stderr).not.toContain(cp.nats.password);
  });

  it('without --nats-url it is ready on the kube API alone', async () => {
    const cp = sharedControlPlane();
    const p = startServiceProcess(main, [...required, `--kubeconfig=${cp.kubeconfigPath}`, '--probe-addr=127.0.0.1:0']);
    try {
      const ready = await p.waitForReady();
      expect(ready).toContain('[+]kube-api ok');
      expect(ready).not.toContain('nats');
      expect((await p.stop()).code).toBe(0);
    } finally {
      await p.kill();
    }
  });

  it('with NATS unreachable it runs but is not ready, naming the nats check, and still stops cleanly', async () => {
    const cp = sharedControlPlane();
    const port = await closedPort();
    const p = startServiceProcess(main, [...required, `--kubeconfig=${cp.kubeconfigPath}`, '--probe-addr=127.0.0.1:0', `--nats-url=nats://127.0.0.1:${port}`, '--nats-token=t0ken-value']);
    try {
      await p.waitForLog('started');
      const r = await p.get('/readyz');
      expect(r.status).toBe(503);
      expect(r.body).toMatch(/^\[-\]nats failed: /m);
      expect(r.body).not.toContain('kube-api');
      expect(r.body).not.toContain('t0ken-value');
      expect((await p.get('/livez')).status).toBe(200);
      expect((await p.stop()).code).toBe(0);
      expect(p.stdout).not.toContain('t0ken-value');
    } finally {
      await p.kill();
    }
  });

  it.each(badInvocations)('refuses $args with exit 2 and one stderr line naming $flag', async ({ args, flag }) => {
    const r = await runToExit(main, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^${service}: [^\\n]*${flag}[ :][^\\n]*\\n$`));
    expect(r.stdout).toBe('');
  });
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
