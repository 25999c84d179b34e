import { RecordingRunner, type RunOptions } from '@strait/net';
import { describe, expect, it } from 'vitest';
import { TopologyBuildError, buildTopology, mapLimit } from './build.ts';
import { TopologySpecError } from './plan.ts';
import type { TopologySpec } from './types.ts';

/**
 * buildTopology's ordering and clean-up against a scripted "kernel" that only knows namespaces
 * (no root needed). The real kernel is exercised by topology.netns.test.ts.
 */
function scriptedKernel(failOn: (cmd: string, args: readonly string[], opts: RunOptions, nth: number) => boolean) {
  const namespaces = new Set<string>(['someone-elses']);
  let n = 0;
  const runner = new RecordingRunner((cmd, args, opts) => {
    n++;
    if (failOn(cmd, args, opts, n)) return { fail: 'RTNETLINK answers: Operation not permitted (injected)', exitCode: 2 };
    const a = args.join(' ');
    if (cmd === 'ip' && a === '-j netns list') return JSON.stringify([...namespaces].map((name) => ({ name })));
    if (cmd === 'ip' && args[0] === 'netns' && args[1] === 'add') namespaces.add(args[2] as string);
    if (cmd === 'ip' && args[0] === 'netns' && args[1] === 'delete') namespaces.delete(args[2] as string);
    if (cmd === 'ip' && a === '-j link show') return '[]';
    if (cmd === 'ip' && args.includes('-j')) return '[]';
    return '';
  });
  return { runner, namespaces };
}

const SPEC: TopologySpec = {
  runId: 'tunit',
  clusters: [
    { name: 'a', podCIDR: '10.0.0.0/16' },
    { name: 'b', podCIDR: '10.0.0.0/16' },
  ],
};

describe('mapLimit', () => {
  it('runs at most `limit` at once and everything when nothing fails', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async (i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      done.push(i);
    });
    expect(peak).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('starts nothing new after a failure, waits for the running ones, throws the first error', async () => {
    const started: number[] = [];
    let running = 0;
    const p = mapLimit([1, 2, 3, 4, 5, 6], 2, async (i) => {
      started.push(i);
      running++;
      await new Promise((r) => setTimeout(r, i === 1 ? 1 : 20));
      running--;
      if (i === 1) throw new Error('one failed');
    });
    await expect(p).rejects.toThrow('one failed');
    expect(running).toBe(0);
    expect(started).toEqual([1, 2]);
  });
});

describe('buildTopology without a kernel', () => {
  it('rejects a bad spec before running a single command', async () => {
    const { runner } = scriptedKernel(() => false);
    const bad: TopologySpec = { ...SPEC, clusters: [...SPEC.clusters, { name: 'c', podCIDR: '10.9.0.0/23' }] };
    await expect(buildTopology(bad, { runner })).rejects.toThrow(TopologySpecError);
    await expect(buildTopology(bad, { runner })).rejects.toThrow(/clusters\[2\]\.podCIDR: 10\.9\.0\.0\/23 has room for 2 node slice/);
    expect(runner.commands).toHaveLength(0);
  });

  it('refuses a run id whose namespaces already exist, creating nothing', async () => {
    const { runner, namespaces } = scriptedKernel(() => false);
    namespaces.add('tunit-a-g1');
    await expect(buildTopology(SPEC, { runner })).rejects.toThrow(/namespaces of this run id already exist \(tunit-a-g1\): destroy them first/);
    expect(runner.writes).toHaveLength(0);
  });

  it('removes every namespace it created when a command fails half-way, and only those', async () => {
    const { runner, namespaces } = scriptedKernel((cmd, args, _o, _n) => cmd === 'ip' && args[0] === 'netns' && args[1] === 'add' && args[2] === 'tunit-b-g2');
    const err = await buildTopology(SPEC, { runner, concurrency: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TopologyBuildError);
    expect((err as Error).message).toMatch(/^building topology tunit failed: ip netns add tunit-b-g2: RTNETLINK answers: Operation not permitted \(injected\) \(everything it created was removed\)$/);
    expect((err as TopologyBuildError).cleanupError).toBeUndefined();
    const added = runner.commands.filter((c) => c.args[0] === 'netns' && c.args[1] === 'add').map((c) => c.args[2]);
    const deleted = runner.commands.filter((c) => c.args[0] === 'netns' && c.args[1] === 'delete').map((c) => c.args[2]);
    expect(added.length).toBeGreaterThan(5);
    expect(deleted.sort()).toEqual(added.filter((n) => n !== 'tunit-b-g2').sort());
    expect([...namespaces]).toEqual(['someone-elses']);
  });

  it('also when the failure hits a configuration step', async () => {
    const { runner, namespaces } = scriptedKernel((cmd, args, opts) => cmd === 'ip' && args.includes('-batch') && opts.netns === 'tunit-b-sw');
    await expect(buildTopology(SPEC, { runner })).rejects.toThrow(/building topology tunit failed: .*\(netns tunit-b-sw\)/);
    expect([...namespaces]).toEqual(['someone-elses']);
  });
});
