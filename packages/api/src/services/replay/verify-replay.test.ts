import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PATH_PRESETS, segmentFileName, TopicConfig } from '@hubcap/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyReplay } from './replay.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'hubcap-verify-replay-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const config = () =>
  TopicConfig.parse({
    topic: 'orders',
    source: {
      fullyQualifiedNamespace: 'ns.servicebus.windows.net',
      eventHubName: 'orders',
      auth: { kind: 'workloadIdentity' },
    },
    destination: { kind: 'localFolder', path: root },
    pathTemplate: PATH_PRESETS.hive,
  });

/** A file of `first`..`last` in hour `hour` of 2026-03-07 under `prefix`. */
async function file(prefix: string, hour: number, first: number, last: number) {
  const path = join(
    root,
    prefix,
    `topic=orders/date=2026-03-07/hour=${String(hour).padStart(2, '0')}`,
    segmentFileName('0', first, last, '.ndjson'),
  );
  await mkdir(dirname(path), { recursive: true });
  await writeFile(
    path,
    `${Array.from({ length: last - first + 1 }, (_, i) => `{"n":${first + i}}`).join('\n')}\n`,
  );
}

describe("a replay's verify report", () => {
  const partitions = [{ partitionId: '0', firstSequence: 0, lastSequence: 9, landed: 9, done: true }];

  it('into a prefix, takes the window the replay started inside as open by design', async () => {
    // Started at 09:30: hour 9 is cut (no manifest), hour 10 is the newest.
    await file('again', 9, 0, 4);
    await file('again', 10, 5, 9);
    const report = await verifyReplay(config(), { kind: 'prefix', prefix: 'again' }, partitions);
    expect(report.cells.map((c) => [c.window.slice(-7), c.status, c.problems])).toEqual([
      ['hour=09', 'open', []],
      ['hour=10', 'open', []],
    ]);
    expect(report.ok).toBe(true);
  });

  it('still names files without a manifest in a later window, and any gap', async () => {
    await file('again', 9, 0, 2);
    await file('again', 10, 5, 6);
    await file('again', 11, 7, 9);
    const report = await verifyReplay(config(), { kind: 'prefix', prefix: 'again' }, partitions);
    expect(report.ok).toBe(false);
    expect(report.cells.map((c) => c.problems.length)).toEqual([0, 2, 0]);
  });
});
