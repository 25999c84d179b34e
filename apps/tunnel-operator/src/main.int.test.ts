import { BAD_FLAG_CASES, runToExit } from '@strait/runtime/testing';
import { describe, expect, it } from 'vitest';

const main = new URL('./main.ts', import.meta.url);
const service = 'tunnel-operator';
const required = ['--cluster-id=it-cluster', '--node-name=it-gw-1'];
const badInvocations = [
  ...BAD_FLAG_CASES.map((b) => ({ args: [...required, ...b.args], flag: b.flag })),
  { args: ['--node-name=n'], flag: '--cluster-id' },
  { args: ['--cluster-id=it-cluster', '--lease-duration=1s', '--renew-deadline=1s'], flag: '--renew-deadline' },
  { args: ['--cluster-id=it-cluster', '--netns-name=a/b'], flag: '--netns-name' },
  { args: [...required, '--veth-cidr=169.254.189.0/29'], flag: '--veth-cidr' },
  { args: [...required, '--pod-cidrs=10.0.0.1/16'], flag: '--pod-cidrs' },
  { args: [...required, '--endpoint-ip=nope'], flag: '--endpoint-ip' },
];

// The lifecycle against a control plane (ready, probes, metrics, SIGTERM) needs a gateway node:
// tunnel-operator.netns.test.ts runs it inside simulated nodes.
describe(`${service} as a process`, () => {
  it.each(badInvocations)('refuses $args with exit 2 and one stderr line naming $flag', async ({ args, flag }) => {
    const r = await runToExit(main, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^${service}: [^\\n]*${flag}[ :][^\\n]*\\n$`));
    expect(r.stdout).toBe('');
  });
});
