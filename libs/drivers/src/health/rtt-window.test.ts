import { describe, expect, it } from 'vitest';
import { RttWindow } from './rtt-window.ts';

describe('RttWindow', () => {
  it('computes min/avg/max/stddev and loss over the window', () => {
    const w = new RttWindow(10);
    [1, 2, 3, 4].forEach((rtt, i) => w.reply(i, rtt));
    w.lost(4);
    const s = w.stats()!;
    expect(s).toMatchObject({ minMs: 1, avgMs: 2.5, maxMs: 4, samples: 4, loss: 0.2 });
    expect(s.stddevMs).toBeCloseTo(Math.sqrt(1.25), 3);
    expect(w.lostInARow).toBe(1);
  });

  it('slides: old probes leave the window', () => {
    const w = new RttWindow(3);
    w.lost(0);
    w.lost(1);
    w.reply(2, 5);
    w.reply(3, 7);
    w.reply(4, 9);
    expect(w.stats()).toMatchObject({ minMs: 5, maxMs: 9, samples: 3, loss: 0 });
    expect(w.lostInARow).toBe(0);
  });

  it('turns a late reply into a reply', () => {
    const w = new RttWindow(5);
    w.lost(1);
    w.reply(1, 900);
    expect(w.stats()).toMatchObject({ samples: 1, loss: 0 });
  });

  it('reports total loss without RTTs', () => {
    const w = new RttWindow(5);
    w.lost(1);
    w.lost(2);
    expect(w.stats()).toMatchObject({ samples: 0, loss: 1 });
    expect(w.lostInARow).toBe(2);
    expect(new RttWindow().stats()).toBeUndefined();
    expect(() => new RttWindow(0)).toThrow();
  });
});
