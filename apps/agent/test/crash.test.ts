import { describe, expect, it } from 'vitest';
import { runCrashScenario } from './crash.ts';
import type { LakeCheck } from './harness.ts';

/** Every produced event is in the lake exactly once, and nothing else is. */
function expectExactlyOnce(result: LakeCheck, events: number): void {
  expect(result.missing).toEqual([]);
  expect(result.duplicated).toEqual([]);
  expect(result.unexpected).toEqual([]);
  expect(result.events).toBe(events);
}

describe('crash test: kill -9 at random moments, restart, every event exactly once', () => {
  it('one replica, NDJSON + gzip', { timeout: 180_000 }, async () => {
    const result = await runCrashScenario({
      partitions: 4,
      eventsPerPartition: 4000,
      waves: 4,
      kills: 6,
      replicas: 1,
      killAfterMs: [500, 2500],
    });
    expect(result.produced).toBe(16_000);
    expect(result.killsBetweenCommitAndCheckpoint).toBeGreaterThanOrEqual(2);
    expect(result.replayRewrites).toBeGreaterThanOrEqual(2);
    expectExactlyOnce(result, 16_000);
  });

  it('two replicas sharing partitions, Avro, one killed at a time', { timeout: 180_000 }, async () => {
    const result = await runCrashScenario({
      partitions: 4,
      eventsPerPartition: 3000,
      waves: 3,
      kills: 4,
      replicas: 2,
      format: { type: 'avro', codec: 'deflate' },
      killAfterMs: [1000, 3000],
      windows: true,
    });
    expectExactlyOnce(result, 12_000);
    // One window per wave: the first two sealed by the next wave's files, equal to an independent audit.
    const cells = result.completeness!.cells;
    expect(cells.flatMap((c) => c.problems)).toEqual([]);
    expect(cells.map((c) => [c.partition, c.status, c.events])).toEqual(
      ['0', '1', '2', '3'].flatMap((p) => [
        [p, 'complete', 1000],
        [p, 'complete', 1000],
        [p, 'open', 1000], // the last wave: landed, not sealed yet
      ]),
    );
  });

  it('one replica, Parquet (zstd)', { timeout: 180_000 }, async () => {
    const result = await runCrashScenario({
      partitions: 2,
      eventsPerPartition: 3000,
      waves: 3,
      kills: 4,
      replicas: 1,
      format: { type: 'parquet', compression: 'zstd' },
      batching: { maxEvents: 500, maxAgeSeconds: 1 },
      killAfterMs: [500, 2000],
    });
    expect(result.killsBetweenCommitAndCheckpoint).toBeGreaterThanOrEqual(1);
    expect(result.replayRewrites).toBeGreaterThanOrEqual(1);
    expectExactlyOnce(result, 6000);
  });
});
