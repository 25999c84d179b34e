import { describe, expect, it } from 'vitest';
import { formatTraffic, summarizeReplies } from './traffic.ts';

describe('summarizeReplies', () => {
  it('counts losses and the longest gap up to the last reply; later requests are in flight', () => {
    // 1..10 answered but 4,5,6 and 9; 12 sent.
    const s = summarizeReplies([1, 2, 3, 7, 8, 10], 12, 20, 240);
    expect(s).toEqual({ sent: 10, received: 6, lost: 4, longestGapMs: 60, inFlight: 2, durationMs: 240 });
    expect(formatTraffic(s)).toBe('6/10 answered, 4 lost, longest gap 60 ms over 0.2 s');
  });

  it('counts a gap at the start, and duplicates once', () => {
    expect(summarizeReplies([3, 3, 4], 4, 10, 40)).toMatchObject({ sent: 4, received: 2, lost: 2, longestGapMs: 20 });
  });

  it('no reply at all: everything lost', () => {
    expect(summarizeReplies([], 50, 20, 1000)).toMatchObject({ sent: 50, received: 0, lost: 50, longestGapMs: 1000 });
  });
});
