import { describe, expect, it } from 'vitest';
import {
  describeFields,
  duckType,
  type JsonType,
  merge,
  NULL,
  newStruct,
  observe,
  observeRow,
  RowError,
} from './json-schema.ts';

function infer(...rows: Record<string, unknown>[]) {
  const root = newStruct();
  for (const row of rows) observeRow(root, row, new Set());
  return root;
}

describe('JSON schema inference', () => {
  it('widens scalars along null → bigint → double → string and boolean → string', () => {
    const t = (...values: unknown[]) => duckType(values.reduce<JsonType>((acc, v) => observe(acc, v), NULL));
    expect(t(1, null, 2)).toBe('BIGINT');
    expect(t(1, 2.5)).toBe('DOUBLE');
    expect(t(1, 2.5, 'x')).toBe('VARCHAR');
    expect(t(true, 1)).toBe('VARCHAR');
    expect(t([1], { a: 1 })).toBe('VARCHAR');
    expect(t(null)).toBeNull();
  });

  it('turns objects with data-like keys, case variants or too many keys into maps (nested only)', () => {
    expect(duckType(infer({ h: { 'content-type': 'x' } }).fields.get('h')!)).toBe('MAP(VARCHAR, VARCHAR)');
    expect(duckType(infer({ h: { Id: 1 } }, { h: { id: 2.5 } }).fields.get('h')!)).toBe(
      'MAP(VARCHAR, DOUBLE)',
    );
    const many = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`k${i}`, i]));
    expect(duckType(infer({ m: many }).fields.get('m')!)).toBe('MAP(VARCHAR, BIGINT)');
    expect(() => infer({ id: 1 }, { ID: 2 })).toThrow(RowError);
    expect(() => infer({ '': 1 })).toThrow(/empty name/);
  });

  it('merges file schemas without mutating them, struct + map → map', () => {
    const a = infer({ s: { x: 1 } });
    const b = infer({ s: { 'y-z': 2.5 } });
    const merged = merge(a, b);
    expect(duckType(merged)).toBe('STRUCT("s" MAP(VARCHAR, DOUBLE))');
    expect(duckType(a)).toBe('STRUCT("s" STRUCT("x" BIGINT))');
  });

  it('describes every node with a path for reports and diffs', () => {
    expect(describeFields(infer({ a: { b: [1] }, m: { 'k-1': 'v' }, n: null }))).toEqual([
      { path: 'a', type: 'STRUCT' },
      { path: 'a.b', type: 'LIST' },
      { path: 'a.b[]', type: 'BIGINT' },
      { path: 'm', type: 'MAP' },
      { path: 'm{}', type: 'VARCHAR' },
      { path: 'n', type: 'NULL' },
    ]);
  });
});
