import { describe, expect, it } from 'vitest';
import {
  append,
  canCommit,
  FIRST_FILE_MAX_AGE_MS,
  fits,
  isExpired,
  isFull,
  openSegment,
  type SegmentLimits,
} from './segment-policy.ts';

const limits: SegmentLimits = { maxBytes: 1000, maxEvents: 5, maxAgeMs: 60_000, boundary: 'hour' };
const at = (iso: string, sequenceNumber: number) => ({
  sequenceNumber,
  offset: String(sequenceNumber),
  enqueuedTimeUtc: new Date(iso),
});

describe('segment policy', () => {
  it('fills a segment up to max events', () => {
    const s = openSegment(limits, at('2026-03-07T09:00:00Z', 10), 0, null);
    for (let i = 10; i < 14; i++) {
      expect(fits(limits, s, at('2026-03-07T09:00:00Z', i), 10)).toBe(true);
      append(s, at('2026-03-07T09:00:00Z', i), 10);
      expect(isFull(limits, s)).toBe(false);
    }
    append(s, at('2026-03-07T09:00:00Z', 14), 10);
    expect(isFull(limits, s)).toBe(true);
    expect(s).toMatchObject({ firstSequence: 10, lastSequence: 14, events: 5, bytes: 50 });
  });

  it('flushes before an event that would exceed max bytes, and when max bytes is reached', () => {
    const s = openSegment(limits, at('2026-03-07T09:00:00Z', 0), 0, null);
    append(s, at('2026-03-07T09:00:00Z', 0), 600);
    expect(fits(limits, s, at('2026-03-07T09:00:00Z', 1), 401)).toBe(false);
    expect(fits(limits, s, at('2026-03-07T09:00:00Z', 1), 400)).toBe(true);
    append(s, at('2026-03-07T09:00:00Z', 1), 400);
    expect(isFull(limits, s)).toBe(true);
  });

  it('accepts an oversized event into an empty segment', () => {
    const s = openSegment(limits, at('2026-03-07T09:00:00Z', 0), 0, null);
    expect(fits(limits, s, at('2026-03-07T09:00:00Z', 0), 5000)).toBe(true);
  });

  it('never lets a file cross the time boundary of the path', () => {
    const s = openSegment(limits, at('2026-03-07T09:59:59.999Z', 0), 0, null);
    append(s, at('2026-03-07T09:59:59.999Z', 0), 1);
    expect(fits(limits, s, at('2026-03-07T10:00:00Z', 1), 1)).toBe(false);
    const none = { ...limits, boundary: 'none' as const };
    const t = openSegment(none, at('2026-03-07T09:59:59Z', 0), 0, null);
    append(t, at('2026-03-07T09:59:59Z', 0), 1);
    expect(fits(none, t, at('2026-03-08T10:00:00Z', 1), 1)).toBe(true);
  });

  it('expires by age measured from the first event', () => {
    const s = openSegment(limits, at('2026-03-07T09:00:00Z', 0), 1000, null);
    expect(isExpired(s, 500_000)).toBe(false);
    append(s, at('2026-03-07T09:00:00Z', 0), 1);
    expect(isExpired(s, 60_999)).toBe(false);
    expect(isExpired(s, 61_000)).toBe(true);
  });

  it("expires a partition's first file after the agent starts early, so a new topic shows a file soon", () => {
    const long = { ...limits, maxAgeMs: 300_000 };
    const first = openSegment(long, at('2026-03-07T09:00:00Z', 0), 1000, null, true);
    append(first, at('2026-03-07T09:00:00Z', 0), 1);
    expect(isExpired(first, 1000 + FIRST_FILE_MAX_AGE_MS - 1)).toBe(false);
    expect(isExpired(first, 1000 + FIRST_FILE_MAX_AGE_MS)).toBe(true);
    const next = openSegment(long, at('2026-03-07T09:00:10Z', 1), 11_000, null);
    append(next, at('2026-03-07T09:00:10Z', 1), 1);
    expect(isExpired(next, 11_000 + FIRST_FILE_MAX_AGE_MS)).toBe(false);
    expect(isExpired(next, 311_000)).toBe(true);
    // A shorter limit stays the limit.
    const short = openSegment({ ...limits, maxAgeMs: 2000 }, at('2026-03-07T09:00:00Z', 0), 0, null, true);
    append(short, at('2026-03-07T09:00:00Z', 0), 1);
    expect(isExpired(short, 2000)).toBe(true);
  });

  it('ends a forced (replayed) segment exactly at its boundary, ignoring every other limit', () => {
    const s = openSegment(limits, at('2026-03-07T09:59:00Z', 100), 0, 107);
    for (let seq = 100; seq <= 106; seq++) {
      const e = at(seq < 103 ? '2026-03-07T09:59:00Z' : '2026-03-07T10:00:01Z', seq);
      expect(fits(limits, s, e, 900)).toBe(true);
      append(s, e, 900);
      expect(isFull(limits, s)).toBe(false);
      expect(isExpired(s, 10_000_000)).toBe(false);
      expect(canCommit(s)).toBe(false);
    }
    append(s, at('2026-03-07T10:00:02Z', 107), 900);
    expect(isFull(limits, s)).toBe(true);
    expect(canCommit(s)).toBe(true);
    expect(fits(limits, s, at('2026-03-07T10:00:02Z', 108), 1)).toBe(false);
  });
});
