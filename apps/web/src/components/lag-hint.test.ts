import { describe, expect, it } from 'vitest';
import { lagHint } from './lag-hint.ts';

const trend = (lagPerSecond: number, writtenPerSecond: number, arrivingPerSecond: number) => ({
  lagPerSecond,
  writtenPerSecond,
  arrivingPerSecond,
  catchUpSeconds: null,
  windowSeconds: 60,
});
const writing = { lagEvents: 2000, writing: true, maxFileAgeSeconds: 30 };

describe('lagHint', () => {
  it("calls events younger than a file's maximum age waiting, whatever the sawtooth of readings says", () => {
    for (const t of [trend(200, 150, 350), trend(-1.5, 351, 350)]) {
      expect(lagHint({ ...writing, lagSeconds: 10, trend: t })).toBe(
        'events · 10 s · waiting for their file (files close within 30 s)',
      );
    }
  });

  it('gives the trend and the time to catch up once events wait longer than a file', () => {
    expect(lagHint({ ...writing, lagSeconds: 120, trend: trend(-10, 360, 350) })).toBe(
      'events · 2 min 0 s · shrinking 10/s · caught up in ~3 min 20 s',
    );
    expect(lagHint({ ...writing, lagSeconds: 120, trend: trend(5, 345, 350) })).toBe(
      'events · 2 min 0 s · growing 5/s · not catching up',
    );
  });

  it('estimates nothing while no agent writes, and says caught up at zero', () => {
    expect(lagHint({ ...writing, writing: false, lagSeconds: 600, trend: null })).toBe(
      'events · 10 min 0 s · no agent writes: it grows with every event',
    );
    expect(lagHint({ ...writing, lagEvents: 0, lagSeconds: 0, trend: null })).toBe(
      'events · 0.0 s · caught up',
    );
  });
});
