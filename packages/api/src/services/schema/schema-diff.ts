import type { SchemaField } from '@hubcap/shared';

/**
 * Differences between two row schemas as agents report them: flat lists of `{ path, type }` nodes
 * (`a.b` a struct field, `a[]` a list element, `a{}` a map value; DuckDB types). Pure, no I/O.
 *
 * A field that disappears is "no longer written": noted, never an error (agents keep a field that
 * stops appearing as a null column, so it mostly happens between replicas or after the stored schema
 * was reset by hand).
 */

export interface SchemaTypeChange {
  path: string;
  from: string;
  to: string;
  /** `widened`: every old value still fits (BIGINT → DOUBLE, anything → VARCHAR); `changed`: it may not. */
  kind: 'widened' | 'changed';
  /** Nested fields the new type absorbs (a struct now kept as JSON text): not listed as removed. */
  absorbed: string[];
}

export interface SchemaDiff {
  added: SchemaField[];
  removed: SchemaField[];
  changed: SchemaTypeChange[];
}

export interface SchemaChangeSummary {
  added: number;
  removed: number;
  widened: number;
  changed: number;
}

const INTEGER_RANK: Record<string, number> = {
  TINYINT: 1,
  SMALLINT: 2,
  INTEGER: 3,
  BIGINT: 4,
  HUGEINT: 5,
};
const UNSIGNED_RANK: Record<string, number> = { UTINYINT: 1, USMALLINT: 2, UINTEGER: 3, UBIGINT: 4 };
const FLOAT_RANK: Record<string, number> = { FLOAT: 1, DOUBLE: 2 };
const TEXT = new Set(['VARCHAR', 'JSON']);
const TIME_RANK: Record<string, number> = { DATE: 1, TIMESTAMP: 2, 'TIMESTAMP WITH TIME ZONE': 3 };

const normalize = (type: string) => type.trim().replace(/\s+/g, ' ').toUpperCase();

/** Whether every value of type `from` can be read as type `to` without loss of meaning. */
export function isWidening(fromType: string, toType: string): boolean {
  const from = normalize(fromType);
  const to = normalize(toType);
  if (from === to) return true;
  // A field seen only as null so far gains its first real type.
  if (from === 'NULL') return true;
  // Anything can be kept as text; agents widen a conflict to VARCHAR (nested values as JSON text).
  if (TEXT.has(to)) return true;
  const listFrom = /^(.*)\[\]$/.exec(from);
  const listTo = /^(.*)\[\]$/.exec(to);
  if (listFrom && listTo) return isWidening(listFrom[1]!, listTo[1]!);
  const signed = INTEGER_RANK[from];
  const unsigned = UNSIGNED_RANK[from];
  if (signed !== undefined || unsigned !== undefined) {
    if (FLOAT_RANK[to] !== undefined || to.startsWith('DECIMAL')) return true;
    const rank = (signed ?? unsigned)!;
    if (INTEGER_RANK[to] !== undefined) return INTEGER_RANK[to] > rank;
    return unsigned !== undefined && UNSIGNED_RANK[to] !== undefined && UNSIGNED_RANK[to] > rank;
  }
  if (from.startsWith('DECIMAL')) return to === 'DOUBLE';
  if (FLOAT_RANK[from] !== undefined && FLOAT_RANK[to] !== undefined)
    return FLOAT_RANK[to] > FLOAT_RANK[from];
  if (TIME_RANK[from] !== undefined && TIME_RANK[to] !== undefined) return TIME_RANK[to] > TIME_RANK[from];
  return false;
}

/** The paths enclosing `path`, innermost last: `a.b[].c` → `a`, `a.b`, `a.b[]`. */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let i = 1; i < path.length; i++) {
    const c = path[i];
    if (c === '.') out.push(path.slice(0, i));
    else if ((c === '[' && path[i + 1] === ']') || (c === '{' && path[i + 1] === '}')) {
      out.push(path.slice(0, i));
      if (i + 2 < path.length) out.push(path.slice(0, i + 2));
    }
  }
  return [...new Set(out)];
}

const byPath = <T extends { path: string }>(a: T, b: T) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

export function diffSchemas(from: readonly SchemaField[], to: readonly SchemaField[]): SchemaDiff {
  const before = new Map(from.map((f) => [f.path, f.type]));
  const after = new Map(to.map((f) => [f.path, f.type]));
  const added: SchemaField[] = [];
  const changed: SchemaTypeChange[] = [];
  for (const [path, type] of after) {
    const old = before.get(path);
    if (old === undefined) added.push({ path, type });
    else if (normalize(old) !== normalize(type)) {
      changed.push({
        path,
        from: old,
        to: type,
        kind: isWidening(old, type) ? 'widened' : 'changed',
        absorbed: [],
      });
    }
  }
  const changedByPath = new Map(changed.map((c) => [c.path, c]));
  const removed: SchemaField[] = [];
  for (const [path, type] of before) {
    if (after.has(path)) continue;
    // A struct that became VARCHAR no longer has children: they live on inside its JSON text.
    const owner = ancestors(path)
      .map((p) => changedByPath.get(p))
      .find((c) => c !== undefined && TEXT.has(normalize(c.to)));
    if (owner) owner.absorbed.push(path);
    else removed.push({ path, type });
  }
  for (const c of changed) c.absorbed.sort();
  return { added: added.sort(byPath), removed: removed.sort(byPath), changed: changed.sort(byPath) };
}

export function summarizeDiff(diff: SchemaDiff): SchemaChangeSummary {
  return {
    added: diff.added.length,
    removed: diff.removed.length,
    widened: diff.changed.filter((c) => c.kind === 'widened').length,
    changed: diff.changed.filter((c) => c.kind === 'changed').length,
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "2 fields added, 1 widened, 1 no longer written" (or "no field changes"). */
export function describeSchemaChange(s: SchemaChangeSummary): string {
  const parts: string[] = [];
  if (s.added > 0) parts.push(`${plural(s.added, 'field')} added`);
  if (s.widened > 0) parts.push(`${s.widened} widened`);
  if (s.changed > 0) parts.push(`${s.changed} changed type`);
  if (s.removed > 0) parts.push(`${s.removed} no longer written`);
  if (parts.length === 0) return 'no field changes';
  // "2 fields added, 1 widened" reads well; a change without additions names its unit once.
  if (s.added === 0)
    parts[0] = parts[0]!.replace(/^(\d+) /, (_, n: string) => `${plural(Number(n), 'field')} `);
  return parts.join(', ');
}
