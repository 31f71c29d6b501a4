import { describe, expect, it } from 'vitest';
import {
  buildPartitionManifest,
  defaultMarkerTemplate,
  manifestBytes,
  PartitionManifest,
  windowOf,
  windowTemplate,
} from './manifest.ts';
import { PATH_PRESETS } from './path-template.ts';

describe('windows of a template', () => {
  it('is the coarsest time boundary; Capture’s window folder is per partition, its marker is not', () => {
    expect(windowTemplate(PATH_PRESETS.hive)).toBe('topic={topic}/date={yyyy}-{MM}-{dd}/hour={HH}');
    expect(windowTemplate(PATH_PRESETS.capture)).toBe('{namespace}/{hub}/{partition}/{yyyy}/{MM}/{dd}/{HH}');
    expect(windowTemplate('{yyyy}/{MM}/{dd}/{partition}')).toBe('{yyyy}/{MM}/{dd}');
    expect(windowTemplate('{topic}/{partition}')).toBeNull();
    expect(defaultMarkerTemplate(PATH_PRESETS.hive)).toBe(
      'topic={topic}/date={yyyy}-{MM}-{dd}/hour={HH}/_SUCCESS',
    );
    expect(defaultMarkerTemplate(PATH_PRESETS.capture)).toBe(
      '_hubcap/{namespace}/{hub}/{yyyy}/{MM}/{dd}/{HH}/_SUCCESS',
    );
    const t = new Date(Date.UTC(2026, 11, 31, 23, 59, 59));
    expect(windowOf(PATH_PRESETS.hive, t)).toEqual({
      start: Date.UTC(2026, 11, 31, 23),
      end: Date.UTC(2027, 0, 1),
    });
    expect(windowOf('{yyyy}/{MM}', t)).toEqual({ start: Date.UTC(2026, 11), end: Date.UTC(2027, 0) });
  });
});

describe('partition manifest', () => {
  const file = (first: number, last: number, kind: 'data' | 'deadLetter' = 'data') => ({
    path: `x/0-${first}-${last}`,
    bytes: 10,
    md5: '1B2M2Y8AsgTpgAmY7PhCfg==',
    firstSequence: first,
    lastSequence: last,
    kind,
    events: last - first + 1,
  });
  it('is the same bytes whatever order storage listed the files in', () => {
    const facts = {
      topic: 't',
      partition: '0',
      window: { start: 0, end: 3600_000 },
      files: [file(5, 9), file(0, 4, 'deadLetter'), file(0, 4)],
      lostAtSource: [{ firstSequence: 10, lastSequence: 12 }],
    };
    const a = manifestBytes(buildPartitionManifest(facts));
    const b = manifestBytes(buildPartitionManifest({ ...facts, files: [...facts.files].reverse() }));
    expect(a.equals(b)).toBe(true);
    const manifest = PartitionManifest.parse(JSON.parse(a.toString()));
    expect(manifest.sequences).toEqual({ firstSequence: 0, lastSequence: 12 });
    expect(manifest.files.map((f) => f.kind)).toEqual(['data', 'deadLetter', 'data']);
  });
  it('refuses hostile content: numbers past 2^53, a partition with a path, an unknown version or field', () => {
    const ok = buildPartitionManifest({
      topic: 't',
      partition: '0',
      window: { start: 0, end: 1 },
      files: [],
      lostAtSource: [],
    });
    expect(PartitionManifest.safeParse(ok).success).toBe(true);
    for (const bad of [
      { ...ok, version: 2 },
      { ...ok, partition: '../0' },
      { ...ok, partition: '..' },
      { ...ok, extra: 1 },
      { ...ok, events: 2 ** 53 },
      { ...ok, lostAtSource: [{ firstSequence: -1, lastSequence: 0 }] },
    ]) {
      expect(PartitionManifest.safeParse(bad).success).toBe(false);
    }
  });
});
