import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WorkqueueMetricsSink } from './metrics.ts';
import { WorkQueue } from './workqueue.ts';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('WorkQueue', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('dedups a key queued twice', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  it('re-queues a key added while it is processed, only after done()', async () => {
    const q = new WorkQueue();
    q.add('a');
    const k = await q.get();
    q.add('a');
    expect(q.len()).toBe(0); // not handed out while in flight
    q.add('a'); // still deduped
    q.done(k as string);
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
  });

  it('never processes one key concurrently, and processes it again after a re-add', async () => {
    const q = new WorkQueue();
    const active = new Map<string, number>();
    let maxSame = 0;
    const seen: string[] = [];
    const running = q.run(
      async (key) => {
        active.set(key, (active.get(key) ?? 0) + 1);
        maxSame = Math.max(maxSame, active.get(key) ?? 0);
        seen.push(key);
        await new Promise((r) => setTimeout(r, 5));
        active.set(key, (active.get(key) ?? 0) - 1);
      },
      { concurrency: 4 },
    );
    q.add('x');
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 1));
      q.add('x');
      q.add(`y${i % 3}`);
    }
    await q.shutdown({ drain: true });
    await running;
    expect(maxSame).toBe(1);
    expect(seen.filter((k) => k === 'x').length).toBeGreaterThan(1);
    // The last add of x happened after an earlier run began, so x ran after the last add (no lost update).
    expect(seen.lastIndexOf('x')).toBeGreaterThan(0);
  });

  it('bounds concurrency to N workers', async () => {
    const q = new WorkQueue();
    let active = 0;
    let peak = 0;
    const running = q.run(
      async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 10));
        active--;
      },
      { concurrency: 3 },
    );
    for (let i = 0; i < 12; i++) q.add(`k${i}`);
    await q.shutdown({ drain: true });
    await running;
    expect(peak).toBe(3);
  });

  it('backs off exponentially per key up to the cap, and forget() resets', () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 1000 });
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      delays.push(q.whenNext('a'));
      q.addRateLimited('a');
    }
    expect(delays).toEqual([10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
    expect(q.numRequeues('a')).toBe(10);
    expect(q.whenNext('b')).toBe(10); // per key
    q.forget('a');
    expect(q.whenNext('a')).toBe(10);
    void q.shutdown();
  });

  it('addRateLimited delivers after the backoff delay', async () => {
    vi.useFakeTimers();
    const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000 });
    q.addRateLimited('a'); // 100 ms
    q.addRateLimited('a'); // 200 ms; earlier schedule (100) wins
    expect(q.len()).toBe(0);
    await vi.advanceTimersByTimeAsync(99);
    expect(q.len()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(q.len()).toBe(1);
  });

  it('addAfter keeps the earliest schedule and dedups with a direct add', async () => {
    vi.useFakeTimers();
    const q = new WorkQueue();
    q.addAfter('a', 500);
    q.addAfter('a', 100);
    q.addAfter('a', 800);
    await vi.advanceTimersByTimeAsync(100);
    expect(q.len()).toBe(1);
    q.add('a');
    expect(q.len()).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(q.len()).toBe(1); // later schedules were superseded
  });

  it('run(): errors retry with backoff, requeueAfter re-adds, success forgets', async () => {
    const q = new WorkQueue({ baseDelayMs: 1, maxDelayMs: 4 });
    let calls = 0;
    const errors: unknown[] = [];
    const running = q.run(
      async () => {
        calls++;
        if (calls <= 3) throw new Error(`fail ${calls}`);
        if (calls === 4) return { requeueAfter: 5 };
        return undefined;
      },
      { onError: (_k, e) => errors.push(e) },
    );
    q.add('a');
    await vi.waitFor(() => expect(calls).toBe(5));
    expect(errors).toHaveLength(3);
    expect(q.numRequeues('a')).toBe(0);
    await q.shutdown();
    await running;
  });

  it('shutdown without drain drops queued keys and waits for in-flight ones', async () => {
    const q = new WorkQueue();
    const done: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const running = q.run(async (k) => {
      await gate;
      done.push(k);
    });
    q.add('a');
    q.add('b');
    q.add('c');
    await tick();
    expect(q.inFlight()).toBe(1);
    const stopped = q.shutdown();
    q.add('d'); // ignored after shutdown
    let finished = false;
    void stopped.then(() => (finished = true));
    await tick();
    expect(finished).toBe(false); // waits for the in-flight key
    release();
    await stopped;
    await running;
    expect(done).toEqual(['a']);
  });

  it('shutdown with drain processes everything queued first, cancels delayed adds', async () => {
    const q = new WorkQueue();
    const done: string[] = [];
    const running = q.run(async (k) => {
      await tick();
      done.push(k);
    }, { concurrency: 2 });
    for (const k of ['a', 'b', 'c', 'd', 'e']) q.add(k);
    q.addAfter('late', 10_000);
    await q.shutdown({ drain: true });
    await running;
    expect(done.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(q.delayed()).toBe(0);
  });

  it('get() returns undefined after shutdown', async () => {
    const q = new WorkQueue();
    const pending = q.get();
    await q.shutdown();
    expect(await pending).toBeUndefined();
    expect(await q.get()).toBeUndefined();
  });

  it('reports metrics through the sink', async () => {
    const m = { depth: [] as number[], added: 0, queued: 0, worked: 0, retried: 0 };
    const sink: WorkqueueMetricsSink = {
      setDepth: (n) => m.depth.push(n),
      added: () => m.added++,
      queued: (s) => {
        expect(s).toBeGreaterThanOrEqual(0);
        m.queued++;
      },
      worked: () => m.worked++,
      retried: () => m.retried++,
    };
    const q = new WorkQueue({ metrics: sink, baseDelayMs: 1 });
    q.add('a');
    q.add('a');
    q.add('b');
    expect(m.added).toBe(2);
    expect(m.depth.at(-1)).toBe(2);
    const k = await q.get();
    q.addRateLimited(k as string);
    q.done(k as string);
    expect(m.queued).toBe(1);
    expect(m.worked).toBe(1);
    expect(m.retried).toBe(1);
    await q.shutdown();
  });

  it('rejects bad options with a specific error', async () => {
    expect(() => new WorkQueue({ baseDelayMs: 0 })).toThrow(/baseDelayMs/);
    const q = new WorkQueue();
    await expect(q.run(async () => undefined, { concurrency: 0 })).rejects.toThrow(/concurrency/);
  });
});
