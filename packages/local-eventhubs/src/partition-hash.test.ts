import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { partitionForKey } from './partition-hash.ts';

// The SDK's own mapping (used by its buffered producer), loaded from its distribution.
const require = createRequire(import.meta.url);
const sdkDir = dirname(require.resolve('@azure/event-hubs/package.json'));
const { mapPartitionKeyToId } = (await import(
  pathToFileURL(join(sdkDir, 'dist/esm/impl/partitionKeyToIdMapper.js')).href
)) as { mapPartitionKeyToId: (key: string, count: number) => number };

describe('partitionForKey', () => {
  it('matches the SDK mapping for keys of every tail length', () => {
    const keys = [
      '',
      'a',
      'ab',
      'customer-42',
      'ünïcødé-ключ',
      ...Array.from({ length: 40 }, (_, i) => 'k'.repeat(i)),
    ];
    for (const key of keys) {
      for (const count of [1, 2, 4, 7, 32]) {
        expect(partitionForKey(key, count)).toBe(mapPartitionKeyToId(key, count));
      }
    }
  });
});
