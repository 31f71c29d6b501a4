import { describe, expect, it } from 'vitest';
import { lagTrend } from './lag-trend.ts';

const at = (s: number) => new Date(Date.UTC(2026, 2, 7, 10, 0, s));

describe('lagTrend', () => {
  it('estimates the time to catch up from what arrives and what is written', () => {
    const trend = lagTrend([
      { at: at(0), lagEvents: 1000, enqueued: 10_000, checkpointed: 9_000 },
      { at: at(30), lagEvents: 800, enqueued: 10_300, checkpointed: 9_500 },
      { at: at(60), lagEvents: 700, enqueued: 10_600, checkpointed: 9_900 },
    ]);
    expect(trend).toEqual({
      arrivingPerSecond: 10,
      writtenPerSecond: 15,
      lagPerSecond: -5,
      catchUpSeconds: 140,
      windowSeconds: 60,
    });
  });

  it('says a paused topic never catches up while its lag grows', () => {
    const trend = lagTrend([
      { at: at(0), lagEvents: 100, enqueued: 1000, checkpointed: 900 },
      { at: at(20), lagEvents: 300, enqueued: 1200, checkpointed: 900 },
    ]);
    expect(trend).toMatchObject({ lagPerSecond: 10, writtenPerSecond: 0, catchUpSeconds: null });
  });

  it('is 0 to catch up when nothing waits, and unknown from fewer than two readings', () => {
    expect(
      lagTrend([
        { at: at(0), lagEvents: 0, enqueued: 5, checkpointed: 5 },
        { at: at(10), lagEvents: 0, enqueued: 5, checkpointed: 5 },
      ])?.catchUpSeconds,
    ).toBe(0);
    expect(lagTrend([{ at: at(0), lagEvents: 3, enqueued: 5, checkpointed: 2 }])).toBeNull();
    expect(lagTrend([])).toBeNull();
  });
});
