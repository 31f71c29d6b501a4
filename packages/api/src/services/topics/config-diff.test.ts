import { describe, expect, it } from 'vitest';
import { diffConfigs } from './config-diff.ts';

describe('diffConfigs', () => {
  it('lists changed, added and removed leaves by dotted path', () => {
    const before = {
      topic: 'a',
      batching: { maxEvents: 10, maxAgeSeconds: 300 },
      format: { type: 'ndjson', compression: 'gzip' },
    };
    const after = {
      topic: 'a',
      batching: { maxEvents: 20, maxAgeSeconds: 300 },
      format: { type: 'avro', codec: 'deflate' },
    };
    expect(diffConfigs(before, after)).toEqual([
      { path: 'batching.maxEvents', before: 10, after: 20 },
      { path: 'format.codec', before: null, after: 'deflate' },
      { path: 'format.compression', before: 'gzip', after: null },
      { path: 'format.type', before: 'ndjson', after: 'avro' },
    ]);
    expect(diffConfigs(before, before)).toEqual([]);
  });
});
