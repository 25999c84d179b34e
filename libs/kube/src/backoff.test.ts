import { describe, expect, it } from 'vitest';
import { Backoff, sleep, Waker } from './backoff.ts';

describe('Backoff', () => {
  it('grows exponentially to the cap with jitter below the nominal delay, and resets', () => {
    const top = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0 });
    expect(Array.from({ length: 6 }, () => top.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    top.reset();
    expect(top.next()).toBe(100);
    const low = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.5, random: () => 1 });
    expect(low.next()).toBe(50);
    expect(() => new Backoff({ initialMs: 0 })).toThrow(/initialMs/);
    expect(() => new Backoff({ jitter: 2 })).toThrow(/jitter/);
  });
});

describe('sleep / Waker', () => {
  it('sleep ends early on abort', async () => {
    const ac = new AbortController();
    const t0 = performance.now();
    setTimeout(() => ac.abort(), 10);
    await sleep(5_000, ac.signal);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });

  it('a wake before the wait is not lost; a wake during the wait ends it', async () => {
    const w = new Waker();
    w.wake();
    const t0 = performance.now();
    await w.wait(5_000);
    setTimeout(() => w.wake(), 10);
    await w.wait(5_000);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });
});
