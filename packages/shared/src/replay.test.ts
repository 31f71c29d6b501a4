import { describe, expect, it } from 'vitest';
import { ReplayRequest, ReplayRun, replayedEvents } from './replay.ts';

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

  it('takes per-partition end sequences and refuses hostile ones, naming the partition', () => {
    const bounded = { ...base, startSequences: { '0': 150 }, endSequences: { '0': 154, '1': 2 ** 53 - 1 } };
    expect(problems(bounded)).toEqual({});
    expect(problems({ ...bounded, endSequences: { '0': 150 } })).toEqual({});
    expect(problems({ ...bounded, endSequences: { '0': 149 } })).toEqual({
      'endSequences.0': 'must not be below the start sequence (150)',
    });
    expect(problems({ ...base, endSequences: { '0': 2 ** 53 } })).toEqual({
      'endSequences.0': `must be at most ${Number.MAX_SAFE_INTEGER}`,
    });
    expect(problems({ ...base, endSequences: { '0': 2 ** 31 } })).toEqual({});
    expect(problems({ ...base, endSequences: { '0': -1 } })).toEqual({
      'endSequences.0': 'must not be negative',
    });
    expect(problems({ ...base, endSequences: { '0': 1.5 } })).toEqual({
      'endSequences.0': 'must be a whole number',
    });
    expect(Object.keys(problems({ ...base, endSequences: { '0': '154' } }))).toEqual(['endSequences.0']);
    expect(Object.keys(problems({ ...base, endSequences: { 'a\u0000b': 1 } }))).toEqual([
      'endSequences.a\u0000b',
    ]);
    expect(Object.keys(problems({ ...base, endSequences: { '..': 1 } }))).toEqual(['endSequences...']);
    expect(Object.keys(problems({ ...base, endSequences: [154] }))).toEqual(['endSequences']);
    // Naming no partition would replay nothing and succeed: "__proto__" is a key the parser drops.
    for (const endSequences of [{}, JSON.parse('{"__proto__": 5}')])
      expect(problems({ ...base, endSequences })).toEqual({
        endSequences: 'must name at least one partition: only the partitions named are replayed',
      });
    // The field's own rule, not the parser's "Invalid key in record"; past 2^53 the range, not "whole number".
    expect(problems({ ...base, endSequences: { 'a\u0000b': 1 } })).toEqual({
      'endSequences.a\u0000b': 'must be a partition id (letters, digits, "-" or "_", at most 64)',
    });
    expect(
      ReplayRequest.safeParse({ ...base, endSequences: { '0': 2 ** 53 + 2 } }).error?.issues[0]?.message,
    ).toBe(`must be at most ${Number.MAX_SAFE_INTEGER}`);
    const many = Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [String(i), 0]));
    expect(problems({ ...base, endSequences: many })).toEqual({
      endSequences: 'must name at most 1024 partitions',
    });
    // A run the control plane hands out is checked the same way.
    const { topic: _, ...run } = { ...bounded, id: 'r1' };
    expect(ReplayRun.safeParse(run).success).toBe(true);
    expect(ReplayRun.safeParse({ ...run, endSequences: { '0': 1 } }).error?.issues[0]?.path).toEqual([
      'endSequences',
      '0',
    ]);
  });

  it('counts replayed events from each range and what is landed of it', () => {
    const p = { partitionId: '0', firstSequence: 10, lastSequence: 19, landed: null, done: false };
    expect(replayedEvents(p)).toBe(0);
    expect(replayedEvents({ ...p, landed: 14 })).toBe(5);
    expect(replayedEvents({ ...p, landed: 14, done: true })).toBe(10);
    expect(replayedEvents({ ...p, firstSequence: null, lastSequence: null, done: true })).toBe(0);
  });
});
