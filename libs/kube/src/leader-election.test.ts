import { afterEach, describe, expect, it, vi } from 'vitest';
import { LeaseResource } from './descriptor.ts';
import { FakeKubeApi } from './fake-api.ts';
import { LeaderElector, type Lease, type LeaderElectionOptions } from './leader-election.ts';

const T = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function world() {
  const api = new FakeKubeApi();
  cleanups.push(() => api.stop());
  const admin = api.client<Lease>(LeaseResource, { admin: true });
  const electors: LeaderElector[] = [];
  const log: string[] = [];
  const make = (identity: string, extra: Partial<LeaderElectionOptions> = {}) => {
    const e = new LeaderElector({
      client: api.client<Lease>(LeaseResource),
      namespace: 'ns',
      name: 'gw',
      identity,
      ...T,
      callbacks: {
        onStartedLeading: () => log.push(`${identity} started`),
        onStoppedLeading: () => log.push(`${identity} stopped`),
      },
      ...extra,
    });
    electors.push(e);
    cleanups.push(() => e.stop({ release: false }));
    return e;
  };
  const leaders = () => electors.filter((e) => e.isLeader()).map((e) => e.identity);
  return { api, admin, make, electors, leaders, log };
}

/** Samples every 5 ms; records any moment with two leaders. */
function monitor(leaders: () => string[]) {
  const violations: string[][] = [];
  const t = setInterval(() => {
    const l = leaders();
    if (l.length > 1) violations.push(l);
  }, 5);
  return { violations, stop: () => clearInterval(t) };
}

describe('LeaderElector', () => {
  it('a single contender creates the lease and leads', async () => {
    const { admin, make, log } = world();
    const leaderSeen: string[] = [];
    const setLeader: boolean[] = [];
    const e = make('a', { callbacks: { onNewLeader: (id) => leaderSeen.push(id) }, metrics: { setLeader: (v) => setLeader.push(v) } });
    e.start();
    await vi.waitFor(() => expect(e.isLeader()).toBe(true));
    const lease = await admin.get({ namespace: 'ns', name: 'gw' });
    expect(lease?.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 1, leaseTransitions: 0 });
    expect(lease?.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(leaderSeen).toEqual(['a']);
    expect(setLeader).toEqual([false, true]);
    expect(log).toEqual([]); // callbacks replaced by the override above
    // keeps renewing
    const rv = lease?.metadata.resourceVersion;
    await vi.waitFor(async () => expect((await admin.get({ namespace: 'ns', name: 'gw' }))?.metadata.resourceVersion).not.toBe(rv));
  });

  it('three contenders: one leader at a time across releases; a released lease is taken at once', async () => {
    const { make, leaders, electors } = world();
    const m = monitor(leaders);
    for (const id of ['a', 'b', 'c']) make(id).start();
    await vi.waitFor(() => expect(leaders()).toHaveLength(1));
    const takeovers: number[] = [];
    for (let round = 0; round < 2; round++) {
      const [leader] = leaders();
      const old = electors.find((e) => e.identity === leader) as LeaderElector;
      const t0 = performance.now();
      await old.stop(); // releases
      await vi.waitFor(() => expect(leaders().filter((l) => l !== leader)).toHaveLength(1), { timeout: 2000, interval: 1 });
      takeovers.push(performance.now() - t0);
    }
    m.stop();
    expect(m.violations).toEqual([]);
    // Released leases are taken via the watch, well before the lease could have expired.
    for (const t of takeovers) expect(t).toBeLessThan(T.leaseDurationMs);
  });

  it('a crashed leader (no release) is replaced once the lease expires, not before', async () => {
    const { make, leaders, electors } = world();
    const m = monitor(leaders);
    make('a').start();
    await vi.waitFor(() => expect(leaders()).toEqual(['a']));
    make('b').start();
    await new Promise((r) => setTimeout(r, 300));
    expect(leaders()).toEqual(['a']);
    const t0 = performance.now();
    await electors[0]?.stop({ release: false });
    await vi.waitFor(() => expect(leaders()).toEqual(['b']), { timeout: 3000, interval: 2 });
    const took = performance.now() - t0;
    m.stop();
    expect(m.violations).toEqual([]);
    expect(took).toBeGreaterThan(T.leaseDurationMs - T.retryPeriodMs - 50); // waited for expiry (from the last renew)
    expect(took).toBeLessThan(2 * T.leaseDurationMs); // generous: timing figures come from the integration test
  });

  it('a leader that cannot renew steps down within renewDeadline, before the lease expires for others', async () => {
    const { api, make, log } = world();
    const e = make('a');
    e.start();
    await vi.waitFor(() => expect(e.isLeader()).toBe(true));
    // wait for a renew to complete, then cut the API server off
    await new Promise((r) => setTimeout(r, 150));
    api.setDown(true);
    const cut = performance.now();
    await vi.waitFor(() => expect(log).toContain('a stopped'), { timeout: 2000, interval: 2 });
    const after = performance.now() - cut;
    expect(e.isLeader()).toBe(false);
    // stepped down about renewDeadline after the last successful renew began (which was before the cut),
    // i.e. before the lease could expire for anyone else
    expect(after).toBeLessThan(T.leaseDurationMs);
    api.setDown(false);
    // the lease still names us: we take it back at once
    await vi.waitFor(() => expect(e.isLeader()).toBe(true));
  });

  it('isLeader() turns false at the deadline even if the step-down timer is late', async () => {
    const { api, make } = world();
    const e = make('a');
    e.start();
    await vi.waitFor(() => expect(e.isLeader()).toBe(true));
    api.setDown(true);
    const t0 = performance.now();
    // Block the event loop past the renew deadline: no timer can run.
    while (performance.now() - t0 < T.renewDeadlineMs + 20) {
      /* busy */
    }
    expect(e.isLeader()).toBe(false);
  });

  it('a leader whose lease was taken over steps down at its next renew', async () => {
    const { admin, make, log } = world();
    const e = make('a');
    e.start();
    await vi.waitFor(() => expect(e.isLeader()).toBe(true));
    const lease = (await admin.get({ namespace: 'ns', name: 'gw' })) as Lease;
    await admin.replace({ ...lease, spec: { ...lease.spec, holderIdentity: 'intruder', renewTime: new Date().toISOString() } });
    await vi.waitFor(() => expect(log).toContain('a stopped'), { timeout: 1000 });
    expect(e.leader()).toBe('intruder');
  });

  it('an acquire that succeeds only after the renew deadline is a miss, not a leadership that ends at once', async () => {
    const { api, make, log } = world();
    const client = api.client<Lease>(LeaseResource);
    let slow = true;
    // The first create reaches the server only after the renew deadline (a loaded machine), whatever the timeout says.
    const late = new Proxy(client, {
      get(target, prop, receiver) {
        if (prop === 'create') {
          return async (obj: Lease) => {
            if (slow) {
              slow = false;
              await new Promise((r) => setTimeout(r, T.renewDeadlineMs + 50));
            }
            return target.create(obj);
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const e = make('a', { client: late, watch: false });
    e.start();
    await vi.waitFor(() => expect(e.isLeader()).toBe(true), { timeout: 3000 });
    await new Promise((r) => setTimeout(r, 2 * T.retryPeriodMs));
    expect(log).toEqual(['a started']);
    expect(e.isLeader()).toBe(true);
  });

  it('many contenders racing for a free lease: exactly one wins (optimistic concurrency)', async () => {
    const { make, leaders } = world();
    const m = monitor(leaders);
    for (let i = 0; i < 8; i++) make(`c${i}`).start();
    await vi.waitFor(() => expect(leaders()).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 300));
    m.stop();
    expect(m.violations).toEqual([]);
    expect(leaders()).toHaveLength(1);
  });

  it('rejects unsafe timings with a specific error', () => {
    const api = new FakeKubeApi();
    const base = { client: api.client<Lease>(LeaseResource), namespace: 'ns', name: 'x', identity: 'a' };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 1000, renewDeadlineMs: 1000, retryPeriodMs: 100 })).toThrow(/leaseDurationMs must be > renewDeadlineMs/);
    expect(() => new LeaderElector({ ...base, renewDeadlineMs: 100, retryPeriodMs: 200 })).toThrow(/renewDeadlineMs must be > retryPeriodMs/);
    expect(() => new LeaderElector({ ...base, identity: '' })).toThrow(/identity/);
    api.stop();
  });
});
