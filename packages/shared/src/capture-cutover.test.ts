import { describe, expect, it } from 'vitest';
import {
  CaptureLocation,
  capturePathFormatProblems,
  continuity,
  DEFAULT_CAPTURE_PATH_FORMAT,
  FillGapInput,
  rollbackGaps,
} from './capture-cutover.ts';

describe("Capture's archive name format", () => {
  it('accepts Capture’s default and any order of all tokens', () => {
    expect(capturePathFormatProblems(DEFAULT_CAPTURE_PATH_FORMAT)).toEqual([]);
    expect(
      capturePathFormatProblems(
        'raw/{Year}-{Month}-{Day}/{EventHub}/{Namespace}/{PartitionId}/{Hour}{Minute}{Second}',
      ),
    ).toEqual([]);
  });

  it('names every problem: missing, unknown, repeated tokens, "..", unsafe characters, huge input', () => {
    expect(
      capturePathFormatProblems(
        '{Namespace}/../{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}',
      ),
    ).toEqual(['must not contain "." or ".." path segments']);
    expect(capturePathFormatProblems(`${DEFAULT_CAPTURE_PATH_FORMAT}/{Second}`)).toEqual([
      'names {Second} more than once',
    ]);
    expect(capturePathFormatProblems(`/${DEFAULT_CAPTURE_PATH_FORMAT}/{Week}`)).toEqual([
      'must not start or end with "/"',
      'unknown token {Week}; Capture knows {Namespace}, {EventHub}, {PartitionId}, {Year}, {Month}, {Day}, {Hour}, {Minute}, {Second}',
    ]);
    expect(capturePathFormatProblems(`${DEFAULT_CAPTURE_PATH_FORMAT}\0`)).toEqual([
      'may contain only letters, digits, "=", ".", "_", "-" and "/" outside tokens',
    ]);
    expect(capturePathFormatProblems('{Namespace}')).toEqual([
      'must contain every Capture token; missing {EventHub}, {PartitionId}, {Year}, {Month}, {Day}, {Hour}, {Minute}, {Second}',
    ]);
    expect(capturePathFormatProblems('{'.repeat(100_000))).toEqual(['must be at most 1024 characters']);
  });

  it('validates a location with the path format defaulted and the container named by Azure’s rules', () => {
    expect(CaptureLocation.parse({ topic: 'orders', container: 'capture' }).pathFormat).toBe(
      DEFAULT_CAPTURE_PATH_FORMAT,
    );
    expect(CaptureLocation.safeParse({ topic: 'orders', container: '../x' }).success).toBe(false);
    expect(CaptureLocation.safeParse({ topic: 'orders', container: 'capture', extra: 1 }).success).toBe(
      false,
    );
  });
});

describe('continuity at a handover', () => {
  it('is continuous exactly when first = last + 1, else names the range', () => {
    expect(continuity(99, 100)).toEqual({ state: 'continuous' });
    expect(continuity(99, 105)).toEqual({ state: 'gap', from: 100, to: 104 });
    expect(continuity(99, 90)).toEqual({ state: 'overlap', from: 90, to: 99 });
    expect(continuity(null, 0)).toEqual({ state: 'unknown', reason: 'nothing landed before the handover' });
    expect(continuity(5, null)).toEqual({
      state: 'unknown',
      reason: 'nothing landed after the handover yet',
    });
  });
});

describe('the gaps of a rollback plan', () => {
  const row = (partitionId: string, c: ReturnType<typeof continuity>, problem: string | null = null) => ({
    partitionId,
    before: null,
    after: null,
    continuity: c,
    problem,
  });

  it('are the gap rows without a problem, as a fill is asked for', () => {
    expect(
      rollbackGaps([
        row('0', continuity(149, 155)),
        row('1', continuity(149, 150)),
        row('2', continuity(149, 140)),
        row('3', continuity(149, null), 'no Capture file'),
      ]),
    ).toEqual([{ partitionId: '0', from: 150, to: 154 }]);
  });

  it('refuses hostile fill requests', () => {
    const location = { topic: 'orders', container: 'capture' };
    const ok = (expected: unknown) => FillGapInput.safeParse({ ...location, expected }).success;
    expect(ok([{ partitionId: '0', from: 150, to: 154 }])).toBe(true);
    expect(ok([{ partitionId: '0', from: 2 ** 53, to: 154 }])).toBe(false);
    expect(ok([{ partitionId: '0', from: '150', to: 154 }])).toBe(false);
    expect(ok([{ partitionId: 'x'.repeat(65), from: 1, to: 2 }])).toBe(false);
    expect(ok([{ partitionId: '0', from: 1, to: 2, extra: 1 }])).toBe(false);
    expect(ok(Array.from({ length: 1025 }, () => ({ partitionId: '0', from: 1, to: 2 })))).toBe(false);
  });
});
