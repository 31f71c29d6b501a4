import { PATH_PRESETS, segmentFileName } from '@hubcap/shared';
import { describe, expect, it } from 'vitest';
import {
  deadLetterPath,
  deadLetterProbePrefix,
  forcedLastSequence,
  type PathLayout,
  replayProbePrefix,
  segmentPath,
} from './paths.ts';

const layout: PathLayout = {
  prefix: 'landing/',
  template: PATH_PRESETS.capture,
  namespace: 'contoso',
  hub: 'orders',
  topic: 'orders-eu',
  extension: '.ndjson.gz',
};
const t = new Date('2026-03-07T09:05:02.123Z');

describe('segment paths', () => {
  it('puts the file under prefix + template, named by partition and sequence range', () => {
    // Capture's layout: the second starts the file name, at Capture's depth.
    expect(segmentPath(layout, '3', t, 42, 1041)).toBe(
      'landing/contoso/orders/3/2026/03/07/09/05/02-3-00000000000000000042-00000000000000001041.ndjson.gz',
    );
    expect(deadLetterPath(layout, '3', t, 42, 1041)).toBe(
      'landing/_deadletter/contoso/orders/3/2026/03/07/09/05/02-3-00000000000000000042-00000000000000001041.ndjson',
    );
    expect(segmentPath({ ...layout, prefix: '', template: PATH_PRESETS.hive }, '0', t, 1, 2)).toBe(
      'topic=orders-eu/date=2026-03-07/hour=09/0-00000000000000000001-00000000000000000002.ndjson.gz',
    );
  });

  it('probes the folder of the first event for files of this partition starting at N', () => {
    expect(replayProbePrefix(layout, '3', t, 42)).toBe(
      'landing/contoso/orders/3/2026/03/07/09/05/02-3-00000000000000000042-',
    );
    expect(deadLetterProbePrefix(layout, '3', t, 42)).toBe(
      'landing/_deadletter/contoso/orders/3/2026/03/07/09/05/02-3-00000000000000000042-',
    );
    // partition "1" must not match partition "12"'s files
    expect(replayProbePrefix(layout, '1', t, 0).endsWith('/02-1-00000000000000000000-')).toBe(true);
    const hive = { ...layout, template: PATH_PRESETS.hive };
    expect(replayProbePrefix(hive, '1', t, 0).endsWith('/hour=09/1-00000000000000000000-')).toBe(true);
  });
});

describe('replay boundary', () => {
  const name = (p: string, a: number, b: number, ext = '.ndjson.gz') => `f/${segmentFileName(p, a, b, ext)}`;

  it('is the last sequence number of the existing file that starts at N', () => {
    expect(forcedLastSequence([name('3', 42, 1041)], '3', 42, '.ndjson.gz')).toEqual({
      lastSequence: 1041,
      conflicting: [],
    });
    const capture = `f/${segmentFileName('3', 42, 99, '.avro', '17')}`;
    expect(forcedLastSequence([capture], '3', 42, '.avro')).toEqual({ lastSequence: 99, conflicting: [] });
  });

  it('is null when no file starts at N', () => {
    expect(forcedLastSequence([], '3', 42, '.ndjson.gz')).toBeNull();
    expect(forcedLastSequence([name('3', 43, 50), name('4', 42, 50)], '3', 42, '.ndjson.gz')).toBeNull();
  });

  it('ignores files of another format and reports conflicting duplicates', () => {
    expect(forcedLastSequence([name('3', 42, 99, '.avro')], '3', 42, '.ndjson.gz')).toBeNull();
    expect(forcedLastSequence([name('3', 42, 90), name('3', 42, 99)], '3', 42, '.ndjson.gz')).toEqual({
      lastSequence: 99,
      conflicting: [name('3', 42, 90)],
    });
  });
});
