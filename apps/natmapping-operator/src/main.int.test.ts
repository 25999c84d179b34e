import { randomBytes } from 'node:crypto';
import { IpNetns } from '@strait/net';
import { BAD_FLAG_CASES, observeLifecycle, runToExit } from '@strait/runtime/testing';
import { sharedControlPlane, sharedKubeConfig } from '@strait/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installNatMappingCrd } from './testing/install-crds.ts';

const main = new URL('./main.ts', import.meta.url);
const service = 'natmapping-operator';
// The operator creates (or adopts) its gateway namespace: a unique one per run, removed afterwards.
const netnsName = `st-${randomBytes(3).toString('hex')}-it-gw`;
const required = ['--cluster-id=it-cluster', '--node-name=it-gw-1'];
const badInvocations = [
  ...BAD_FLAG_CASES.map((b) => ({ args: [...required, ...b.args], flag: b.flag })),
  { args: ['--node-name=n'], flag: '--cluster-id' },
  { args: ['--cluster-id=it-cluster', '--node-name=Not_A_Node'], flag: '--node-name' },
  { args: [...required, '--verify-interval=10ms'], flag: '--verify-interval' },
  { args: [...required, '--netns-name=bad/name'], flag: '--netns-name' },
];
const isRoot = process.getuid?.() === 0;

beforeAll(async () => {
  if (isRoot) await installNatMappingCrd(sharedKubeConfig(), 'strait-system');
});

afterAll(async () => {
  if (isRoot) await new IpNetns().delete(netnsName);
});

describe(`${service} as a process`, () => {
  // Creating the gateway network namespace needs root.
  it.skipIf(!isRoot)('becomes ready against the control plane, serves probes and metrics, exits 0 on SIGTERM', async () => {
    const cp = sharedControlPlane();
    const o = await observeLifecycle(main, cp, [...required, `--netns-name=${netnsName}`]);
    expect(o.ready).toContain('[+]started ok');
    expect(o.ready).toContain('[+]kube-api ok');
    expect(o.ready).toContain('[+]nats ok');
    expect(o.ready).toContain('[+]natmap ok');
    expect(o.livez).toEqual({ status: 200, body: 'ok' });
    expect(o.metrics).toMatch(/^process_cpu_seconds_total /m);
    expect(o.metrics).toMatch(/^nodejs_heap_size_used_bytes /m);
    expect(o.metrics).toMatch(new RegExp(`^strait_build_info\\{service="${service}",version="\\d+\\.\\d+\\.\\d+"`, 'm'));
    expect(o.metrics).toMatch(/^strait_natmapping_apply_errors_total 0$/m);
    expect(o.metrics).toMatch(/^controller_runtime_reconcile_total\{controller="natmapping-table",result="success"\} [1-9]/m);
    expect(o.started).toMatchObject({ service, config: { clusterId: 'it-cluster', nodeName: 'it-gw-1', netnsName, natsPassword: '[redacted]' } });
    expect(o.stop).toMatchObject({ code: 0, signal: null });
    expect(o.stop.ms).toBeLessThan(5000);
    expect(o.stdout + o.stderr).not.toContain(cp.nats.password);
    // Stopping left the gateway namespace in place.
    expect(await new IpNetns().exists(netnsName)).toBe(true);
  });

  it.each(badInvocations)('refuses $args with exit 2 and one stderr line naming $flag', async ({ args, flag }) => {
    const r = await runToExit(main, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^${service}: [^\\n]*${flag}[ :][^\\n]*\\n$`));
    expect(r.stdout).toBe('');
  });
});
