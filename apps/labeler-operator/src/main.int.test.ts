import { BAD_FLAG_CASES, observeLifecycle, runToExit } from '@strait/runtime/testing';
import { sharedControlPlane } from '@strait/testing';
import { describe, expect, it } from 'vitest';

const main = new URL('./main.ts', import.meta.url);
const service = 'labeler-operator';
const required = ['--cluster-id=it-cluster'];
const badInvocations = [
  ...BAD_FLAG_CASES.map((b) => ({ args: [...required, ...b.args], flag: b.flag })),
  { args: [], flag: '--cluster-id' },
  { args: ['--cluster-id=it-cluster', '--retry-period=2s'], flag: '--retry-period' },
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
    expect(o.started).toMatchObject({ service, config: { clusterId: 'it-cluster', leaseName: 'strait-labeler', natsPassword: '[redacted]' } });
    expect(o.stop).toMatchObject({ code: 0, signal: null });
    expect(o.stop.ms).toBeLessThan(5000);
    expect(o.stdout + o.stderr).not.toContain(cp.nats.password);
  });

  it.each(badInvocations)('refuses $args with exit 2 and one stderr line naming $flag', async ({ args, flag }) => {
    const r = await runToExit(main, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^${service}: [^\\n]*${flag}[ :][^\\n]*\\n$`));
    expect(r.stdout).toBe('');
  });
});
