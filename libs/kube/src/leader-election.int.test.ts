// eslint-disable-next-line @nx/enforce-module-boundaries -- integration tests run against the real control plane from the test harness (type:testing)
import { sharedKubeConfig } from '@strait/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { CrClient } from './cr-client.ts';
import { LeaseResource } from './descriptor.ts';
import { LeaderElector, type Lease } from './leader-election.ts';
import { RestClient } from './rest.ts';

/** Short timings, as the gateway uses. */
const TIMING = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 150 };
const suffix = Math.random().toString(36).slice(2, 8);
const namespace = 'default';
const leaseName = `strait-kube-le-${suffix}`;

interface Span {
  id: string;
  start: number;
  end?: number;
}

/** Three contenders, each with its own connection pool (as separate processes would have). */
function contenders() {
  const spans: Span[] = [];
  const electors = new Map<string, LeaderElector>();
  const spawn = (id: string) => {
    const client = new CrClient<Lease>(new RestClient(sharedKubeConfig()), LeaseResource);
    const e = new LeaderElector({
      client,
      namespace,
      name: leaseName,
      identity: id,
      ...TIMING,
      callbacks: {
        onStartedLeading: () => spans.push({ id, start: performance.now() }),
        onStoppedLeading: () => {
          const s = spans.findLast((x) => x.id === id && x.end === undefined);
          if (s) s.end = performance.now();
        },
      },
    });
    electors.set(id, e);
    e.start();
    return e;
  };
  const leaders = () => [...electors.values()].filter((e) => e.isLeader()).map((e) => e.identity);
  return { spans, electors, spawn, leaders };
}

/** Checks every 10 ms that at most one contender considers itself leader. */
function monitor(leaders: () => string[]) {
  const violations: Array<{ at: number; leaders: string[] }> = [];
  let samples = 0;
  const t = setInterval(() => {
    samples++;
    const l = leaders();
    if (l.length > 1) violations.push({ at: performance.now(), leaders: l });
  }, 10);
  return { violations, samples: () => samples, stop: () => clearInterval(t) };
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
  return performance.now() - t0;
}

const all: LeaderElector[] = [];
afterAll(async () => {
  await Promise.all(all.map((e) => e.stop({ release: false })));
  await new CrClient<Lease>(sharedKubeConfig(), LeaseResource).delete({ namespace, name: leaseName }).catch(() => undefined);
});

describe('leader election on a real Lease (three contenders)', () => {
  it('never two leaders; a released lease is taken in well under 1 s; a crashed leader is replaced within leaseDuration + retryPeriod', async () => {
    const c = contenders();
    const m = monitor(c.leaders);
    for (const id of ['a', 'b', 'c']) all.push(c.spawn(id));
    await waitFor(() => c.leaders().length === 1, 10_000, 'a first leader');

    // Graceful handovers: the leader stops (releasing the Lease); a standby must take over at once.
    const released: number[] = [];
    for (let round = 0; round < 4; round++) {
      const [old] = c.leaders();
      if (!old) throw new Error('no leader');
      await new Promise((r) => setTimeout(r, 300)); // let a few renews happen
      const stopping = c.electors.get(old) as LeaderElector;
      const stopped = stopping.stop(); // steps down, then releases
      const took = await waitFor(() => c.leaders().some((l) => l !== old), 5_000, `takeover after ${old} released`);
      await stopped;
      released.push(took);
      all.push(c.spawn(old)); // the old leader comes back as a standby
    }

    // Crashes: the leader stops renewing without releasing.
    const crashed: number[] = [];
    for (let round = 0; round < 2; round++) {
      const [old] = c.leaders();
      if (!old) throw new Error('no leader');
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      await (c.electors.get(old) as LeaderElector).stop({ release: false });
      await waitFor(() => c.leaders().some((l) => l !== old), 5_000, `takeover after ${old} crashed`);
      crashed.push(performance.now() - t0);
      all.push(c.spawn(old));
    }
    m.stop();

    // Leadership spans from the callbacks must not overlap either.
    const overlaps: string[] = [];
    const spans = [...c.spans].sort((x, y) => x.start - y.start);
    for (let i = 1; i < spans.length; i++) {
      const prev = spans[i - 1] as Span;
      const cur = spans[i] as Span;
      if (prev.end === undefined || prev.end > cur.start) overlaps.push(`${prev.id}[${prev.start.toFixed(1)}..${prev.end?.toFixed(1)}] vs ${cur.id}@${cur.start.toFixed(1)}`);
    }

    const fmt = (xs: number[]) => xs.map((x) => `${x.toFixed(0)} ms`).join(', ');
    console.log(
      `[leader-election] timings lease=${TIMING.leaseDurationMs} ms renewDeadline=${TIMING.renewDeadlineMs} ms retry=${TIMING.retryPeriodMs} ms\n` +
        `[leader-election] released lease taken over in: ${fmt(released)} (max ${Math.max(...released).toFixed(0)} ms)\n` +
        `[leader-election] crashed leader replaced in:   ${fmt(crashed)} (max ${Math.max(...crashed).toFixed(0)} ms; bound ${TIMING.leaseDurationMs + TIMING.retryPeriodMs} ms)\n` +
        `[leader-election] ${m.samples()} samples at 10 ms, ${c.spans.length} leadership spans, ${m.violations.length} moments with two leaders`,
    );
    expect(m.violations).toEqual([]);
    expect(overlaps.filter((o) => !o.includes('..undefined'))).toEqual([]);
    for (const t of released) expect(t).toBeLessThan(1000);
    for (const t of crashed) expect(t).toBeLessThan(TIMING.leaseDurationMs + TIMING.retryPeriodMs);
  });
});
