import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configReference, fieldInfo, withConfigReference } from './config-reference.ts';

describe('configuration reference', () => {
  it('lists every leaf field with its default and the variants of unions', () => {
    const table = configReference();
    expect(table).toContain('| `batching.maxBytes` | integer 1048576–4294967296 | `134217728` |');
    expect(table).toContain(
      '| `source.auth.connectionString` (when `source.auth.kind` = `connectionString`) |',
    );
    expect(table).toContain(
      '| `format.compression` (when `format.type` = `ndjson`) | `gzip` \\| `zstd` \\| `none` |',
    );
  });

  it('is up to date in the README (run `npm run docs:config` after changing the schema)', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    expect(withConfigReference(readme)).toBe(readme);
  });

  it('tells the form about one field, in the variant the document selects', () => {
    expect(fieldInfo('batching.maxAgeSeconds')).toMatchObject({ default: 300, minimum: 1, maximum: 3600 });
    expect(fieldInfo('format.compression', { format: { type: 'parquet' } }).enum).toEqual([
      'zstd',
      'snappy',
      'gzip',
      'none',
    ]);
    expect(fieldInfo('format.compression', { format: { type: 'ndjson' } }).enum).toEqual([
      'gzip',
      'zstd',
      'none',
    ]);
    expect(fieldInfo('source.auth.connectionString').description).toMatch(/\(secret\)/);
    expect(() => fieldInfo('source.nope')).toThrow(/no field source.nope/);
  });
});
