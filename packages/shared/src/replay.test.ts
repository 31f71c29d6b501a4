import { describe, expect, it } from 'vitest';
import { ReplayRequest, replayedEvents } from './replay.ts';

const base = {
  topic: 'orders',
  from: '2026-11-24T10:00:00Z',
  to: '2026-11-24T14:00:00Z',
  target: { kind: 'prefix', prefix: 'backfill/tuesday' },
};

/** Field → message of every problem of an input. */
function problems(input: unknown): Record<string, string> {
  const result = ReplayRequest.safeParse(input);
  if (result.success) return {};
  return Object.fromEntries(result.error.issues.map((i) => [i.path.join('.'), i.message]));
}

describe('ReplayRequest', () => {
  it('takes a window into a prefix or the own layout, with optional start sequences', () => {
    expect(problems(base)).toEqual({});
    expect(
      problems({ ...base, target: { kind: 'ownLayout' }, startSequences: { '0': 0, '31': 2 ** 53 - 1 } }),
    ).toEqual({});
  });

  it('refuses hostile windows, prefixes and sequence numbers, naming the field', () => {
    expect(problems({ ...base, to: base.from })).toEqual({ to: 'must be after the start' });
    expect(problems({ ...base, from: '2026-01-01T00:00:00Z' })).toEqual({
      to: 'must be at most 90 days after the start',
    });
    expect(Object.keys(problems({ ...base, from: 'last tuesday' }))).toEqual(['from']);
    for (const prefix of ['a/../b', '..', '/abs', 'a//b', 'a/', '', 'a\u0000b', 'x'.repeat(513), 'ü'])
      expect(Object.keys(problems({ ...base, target: { kind: 'prefix', prefix } })), prefix).toEqual([
        'target.prefix',
      ]);
    expect(Object.keys(problems({ ...base, target: { kind: 'elsewhere' } }))).toEqual(['target.kind']);
    expect(problems({ ...base, startSequences: { '0': 2 ** 53 } })).toEqual({
      'startSequences.0': `must be at most ${Number.MAX_SAFE_INTEGER}`,
    });
    expect(problems({ ...base, startSequences: { '0': -1 } })).toEqual({
      'startSequences.0': 'must not be negative',
    });
    expect(Object.keys(problems({ ...base, startSequences: { '../x': 1 } }))).toEqual([
      'startSequences.../x',
    ]);
    const many = Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [String(i), 0]));
    expect(problems({ ...base, startSequences: many })).toEqual({
      startSequences: 'must name at most 1024 partitions',
    });
    expect(Object.keys(problems({ ...base, extra: true }))).toEqual(['']);
  });

  it('counts replayed events from each range and what is landed of it', () => {
    const p = { partitionId: '0', firstSequence: 10, lastSequence: 19, landed: null, done: false };
    expect(replayedEvents(p)).toBe(0);
    expect(replayedEvents({ ...p, landed: 14 })).toBe(5);
    expect(replayedEvents({ ...p, landed: 14, done: true })).toBe(10);
    expect(replayedEvents({ ...p, firstSequence: null, lastSequence: null, done: true })).toBe(0);
  });
});
