import { createServer } from 'node:net';
import { BAD_FLAG_CASES, runToExit, startServiceProcess } from '@strait/runtime/testing';
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
  it('serves probes and metrics against the control plane, is not ready before it knows its node, exits 0 on SIGTERM', async () => {
    // No Node object and no --node-ip: the agent waits for its node and never touches this host's kernel.
    const cp = sharedControlPlane();
    const p = startServiceProcess(main, [...required, `--kubeconfig=${cp.kubeconfigPath}`, '--probe-addr=127.0.0.1:0', `--nats-url=${cp.nats.url}`, `--nats-user=${cp.nats.user}`, `--nats-password=${cp.nats.password}`]);
    try {
      const started = await p.waitForLog('started');
      expect(started).toMatchObject({ service, config: { clusterId: 'it-cluster', nodeName: 'it-node-1', natsPassword: '[redacted]' } });
      const ready = await until(async () => {
        const r = await p.get('/readyz?verbose');
        return r.body.includes('[+]kube-api ok') && r.body.includes('[+]nats ok') ? r : undefined;
      });
      expect(ready.status).toBe(503);
      expect(ready.body).toMatch(/^\[-\]routes failed: routes not applied yet/m);
      expect(await p.get('/livez')).toEqual({ status: 200, body: 'ok' });
      const metrics = (await p.get('/metrics')).body;
      expect(metrics).toMatch(/^process_cpu_seconds_total /m);
      expect(metrics).toMatch(/^strait_route_agent_routes 0$/m);
      expect(metrics).toMatch(new RegExp(`^strait_build_info\\{service="${service}",version="\\d+\\.\\d+\\.\\d+"`, 'm'));
      const stop = await p.stop();
      expect(stop).toMatchObject({ code: 0, signal: null });
      expect(p.stdout + p.stderr).not.toContain(cp.nats.password);
    } finally {
      await p.kill();
    }
  });

  it('without --nats-url it runs on the kube API alone', async () => {
    const cp = sharedControlPlane();
    const p = startServiceProcess(main, [...required, `--kubeconfig=${cp.kubeconfigPath}`, '--probe-addr=127.0.0.1:0']);
    try {
      await p.waitForLog('started');
      const r = await until(async () => {
        const x = await p.get('/readyz?verbose');
        return x.body.includes('[+]kube-api ok') ? x : undefined;
      });
      expect(r.body).not.toContain('nats');
      expect((await p.stop()).code).toBe(0);
    } finally {
      await p.kill();
    }
  });

  it('with NATS unreachable it runs, shows the nats check degraded without letting it gate readiness (NATS only carries hints), and still stops cleanly', async () => {
    const cp = sharedControlPlane();
    const port = await closedPort();
    const p = startServiceProcess(main, [...required, `--kubeconfig=${cp.kubeconfigPath}`, '--probe-addr=127.0.0.1:0', `--nats-url=nats://127.0.0.1:${port}`, '--nats-token=t0ken-value']);
    try {
      await p.waitForLog('started');
      const r = await until(async () => {
        const x = await p.get('/readyz?verbose');
        return x.body.includes('[+]kube-api ok') ? x : undefined;
      });
      expect(r.body).toMatch(/^\[!\]nats degraded: /m);
      expect(r.body).not.toContain('t0ken-value');
      // Not ready only for want of its Node (no Node object here), never for NATS.
      const gate = await p.get('/readyz');
      expect(gate.body).toMatch(/^\[-\]routes failed: routes not applied yet[^\n]*\nreadyz check failed\n$/);
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

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
