import { describe, expect, it } from 'vitest';
import { ancestors, describeSchemaChange, diffSchemas, isWidening, summarizeDiff } from './schema-diff.ts';

const f = (path: string, type: string) => ({ path, type });

describe('diffSchemas', () => {
  it('lists added fields, fields no longer written and widened types, sorted by path', () => {
    const v1 = [f('id', 'BIGINT'), f('amount', 'BIGINT'), f('note', 'VARCHAR'), f('legacy', 'BOOLEAN')];
    const v2 = [f('id', 'BIGINT'), f('amount', 'DOUBLE'), f('note', 'VARCHAR'), f('currency', 'VARCHAR')];
    const diff = diffSchemas(v1, v2);
    expect(diff).toEqual({
      added: [f('currency', 'VARCHAR')],
      removed: [f('legacy', 'BOOLEAN')],
      changed: [{ path: 'amount', from: 'BIGINT', to: 'DOUBLE', kind: 'widened', absorbed: [] }],
    });
    expect(summarizeDiff(diff)).toEqual({ added: 1, removed: 1, widened: 1, changed: 0 });
    expect(diffSchemas(v1, v1)).toEqual({ added: [], removed: [], changed: [] });
  });

  it('follows nested struct fields, lists and maps by path', () => {
    const v1 = [f('user', 'STRUCT'), f('user.id', 'BIGINT'), f('tags', 'LIST'), f('tags[]', 'VARCHAR')];
    const v2 = [
      f('user', 'STRUCT'),
      f('user.id', 'BIGINT'),
      f('user.address', 'STRUCT'),
      f('user.address.city', 'VARCHAR'),
      f('tags', 'LIST'),
      f('tags[]', 'VARCHAR'),
      f('attrs', 'MAP'),
      f('attrs{}', 'BIGINT'),
    ];
    expect(diffSchemas(v1, v2).added.map((a) => a.path)).toEqual([
      'attrs',
      'attrs{}',
      'user.address',
      'user.address.city',
    ]);
  });

  it('a struct kept as JSON text absorbs its children instead of reporting them as gone', () => {
    const v1 = [f('meta', 'STRUCT'), f('meta.a', 'BIGINT'), f('meta.b.c', 'VARCHAR'), f('x', 'BIGINT')];
    const v2 = [f('meta', 'VARCHAR')];
    const diff = diffSchemas(v1, v2);
    expect(diff.changed).toEqual([
      { path: 'meta', from: 'STRUCT', to: 'VARCHAR', kind: 'widened', absorbed: ['meta.a', 'meta.b.c'] },
    ]);
    expect(diff.removed).toEqual([f('x', 'BIGINT')]);
  });

  it('marks a narrowing or an incompatible change as a type change, not a widening', () => {
    const diff = diffSchemas(
      [f('a', 'VARCHAR'), f('b', 'STRUCT'), f('c', 'DOUBLE')],
      [f('a', 'BIGINT'), f('b', 'LIST'), f('c', 'BIGINT')],
    );
    expect(diff.changed.map((c) => `${c.path}:${c.kind}`)).toEqual(['a:changed', 'b:changed', 'c:changed']);
    expect(summarizeDiff(diff)).toEqual({ added: 0, removed: 0, widened: 0, changed: 3 });
  });
});

describe('isWidening', () => {
  it.each([
    ['NULL', 'BIGINT', true],
    ['BIGINT', 'DOUBLE', true],
    ['DOUBLE', 'VARCHAR', true],
    ['INTEGER', 'BIGINT', true],
    ['UINTEGER', 'BIGINT', true],
    ['BIGINT', 'UBIGINT', false],
    ['BIGINT', 'INTEGER', false],
    ['FLOAT', 'DOUBLE', true],
    ['DOUBLE', 'BIGINT', false],
    ['STRUCT', 'VARCHAR', true],
    ['BIGINT[]', 'DOUBLE[]', true],
    ['VARCHAR[]', 'BIGINT[]', false],
    ['DATE', 'TIMESTAMP', true],
    ['BOOLEAN', 'BIGINT', false],
    ['bigint', 'BIGINT', true],
  ])('%s → %s: %s', (from, to, expected) => {
    expect(isWidening(from, to)).toBe(expected);
  });
});

describe('ancestors', () => {
  it('names every enclosing struct, list and map node', () => {
    expect(ancestors('a.b[].c')).toEqual(['a', 'a.b', 'a.b[]']);
    expect(ancestors('m{}.x')).toEqual(['m', 'm{}']);
    expect(ancestors('top')).toEqual([]);
  });
});

describe('describeSchemaChange', () => {
  it('reads like a notice', () => {
    expect(describeSchemaChange({ added: 2, removed: 0, widened: 1, changed: 0 })).toBe(
      '2 fields added, 1 widened',
    );
    expect(describeSchemaChange({ added: 0, removed: 1, widened: 0, changed: 0 })).toBe(
      '1 field no longer written',
    );
    expect(describeSchemaChange({ added: 1, removed: 2, widened: 0, changed: 1 })).toBe(
      '1 field added, 1 changed type, 2 no longer written',
    );
    expect(describeSchemaChange({ added: 0, removed: 0, widened: 0, changed: 0 })).toBe('no field changes');
  });
});
