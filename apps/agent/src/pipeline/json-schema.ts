/**
 * Schema inference for JSON events, with widening instead of failure.
 *
 * Types form a small lattice: null ⊂ everything; bigint ⊂ double ⊂ string; boolean ⊂ string;
 * objects become structs (fields in first-seen order) or maps; arrays become lists. Two types that
 * cannot be combined widen to string (a nested value is then kept as its JSON text), so a value is
 * never dropped because its type changed. Every step is a pure function of the values seen, in order,
 * so the same events always give the same schema.
 */

export type JsonType = ScalarType | ListType | StructType | MapType;
export interface ScalarType {
  readonly kind: 'null' | 'boolean' | 'bigint' | 'double' | 'string';
}
export interface ListType {
  kind: 'list';
  element: JsonType;
}
export interface StructType {
  kind: 'struct';
  /** Insertion order = first seen. */
  fields: Map<string, JsonType>;
  /** lower-cased name → name: Parquet readers (DuckDB, Spark) match column names ignoring case. */
  lower: Map<string, string>;
}
export interface MapType {
  kind: 'map';
  value: JsonType;
}

export const NULL: ScalarType = { kind: 'null' };
export const BOOLEAN: ScalarType = { kind: 'boolean' };
export const BIGINT: ScalarType = { kind: 'bigint' };
export const DOUBLE: ScalarType = { kind: 'double' };
export const STRING: ScalarType = { kind: 'string' };

/** A nested object with more distinct keys than this is a map, not a struct (as DuckDB's own inference). */
export const MAX_STRUCT_FIELDS = 200;
const INT64_LIMIT = 2 ** 63;

export function newStruct(): StructType {
  return { kind: 'struct', fields: new Map(), lower: new Map() };
}

/** Why an event cannot become a row; `kind` is a bounded label for metrics. */
export class RowError extends Error {
  readonly kind: DeadLetterKind;
  constructor(kind: DeadLetterKind, message: string) {
    super(message);
    this.name = 'RowError';
    this.kind = kind;
  }
}

export type DeadLetterKind =
  | 'not-json'
  | 'not-object'
  | 'invalid-utf8'
  | 'invalid-string'
  | 'too-large'
  | 'field-name'
  | 'undecodable-avro'
  | 'duplicate-key'
  | 'too-deep'
  | 'too-wide'
  | 'number-range'
  /** Accepted by the format's checks but refused by its writer; isolated after the segment failed. */
  | 'unwritable';

/**
 * Keys that look like data rather than field names (ids, host names, header names, paths, numbers):
 * a nested object with such a key is a map. Identifiers (letters, digits, `_`, `@`, `$`) are fields.
 */
const FIELD_NAME = /^[A-Za-z_@$][A-Za-z0-9_@$]*$/;
function isDataKey(key: string): boolean {
  return !FIELD_NAME.test(key);
}

function isScalar(t: JsonType): t is ScalarType {
  return t.kind !== 'list' && t.kind !== 'struct' && t.kind !== 'map';
}

function widenScalars(a: ScalarType, b: ScalarType): ScalarType {
  if (a === b) return a;
  if (a === NULL) return b;
  if (b === NULL) return a;
  if ((a === BIGINT && b === DOUBLE) || (a === DOUBLE && b === BIGINT)) return DOUBLE;
  return STRING;
}

function structToMap(s: StructType): MapType {
  let value: JsonType = NULL;
  for (const t of s.fields.values()) value = merge(value, t);
  return { kind: 'map', value };
}

/** The narrowest type holding every value of `a` and of `b`. Never mutates its inputs. */
export function merge(a: JsonType, b: JsonType): JsonType {
  if (a === NULL) return clone(b);
  if (b === NULL) return clone(a);
  if (isScalar(a) && isScalar(b)) return widenScalars(a, b);
  if (a.kind === 'list' && b.kind === 'list') return { kind: 'list', element: merge(a.element, b.element) };
  if (a.kind === 'map' && b.kind === 'map') return { kind: 'map', value: merge(a.value, b.value) };
  if (a.kind === 'map' && b.kind === 'struct')
    return { kind: 'map', value: merge(a.value, structToMap(b).value) };
  if (a.kind === 'struct' && b.kind === 'map')
    return { kind: 'map', value: merge(structToMap(a).value, b.value) };
  if (a.kind === 'struct' && b.kind === 'struct') {
    const out = clone(a) as StructType;
    for (const [name, t] of b.fields) {
      const existing = out.fields.get(name);
      if (existing !== undefined) {
        out.fields.set(name, merge(existing, t));
        continue;
      }
      // Same name in another case, or too many fields: the object is a map (keys kept as they are).
      if (out.lower.has(name.toLowerCase()) || out.fields.size >= MAX_STRUCT_FIELDS) {
        return merge(structToMap(a), structToMap(b));
      }
      out.fields.set(name, clone(t));
      out.lower.set(name.toLowerCase(), name);
    }
    return out;
  }
  return STRING;
}

export function clone(t: JsonType): JsonType {
  switch (t.kind) {
    case 'list':
      return { kind: 'list', element: clone(t.element) };
    case 'map':
      return { kind: 'map', value: clone(t.value) };
    case 'struct': {
      const out = newStruct();
      for (const [name, f] of t.fields) out.fields.set(name, clone(f));
      for (const [l, name] of t.lower) out.lower.set(l, name);
      return out;
    }
    default:
      return t;
  }
}

/**
 * Widens `t` so it holds `value` (a parsed JSON value) and returns the result; structs, lists and maps
 * are updated in place when they stay what they are.
 */
export function observe(t: JsonType, value: unknown): JsonType {
  if (value === null) return t;
  switch (typeof value) {
    case 'string':
      return t === STRING || t === NULL ? STRING : isScalar(t) ? widenScalars(t, STRING) : STRING;
    case 'boolean':
      return t === BOOLEAN || t === NULL ? BOOLEAN : isScalar(t) ? widenScalars(t, BOOLEAN) : STRING;
    case 'number': {
      const n = value as number;
      // Beyond the double range (1e309 parses as Infinity): no numeric column holds it, text does.
      if (!Number.isFinite(n)) return isScalar(t) ? widenScalars(t, STRING) : STRING;
      // -2^63 itself may stand for text just below the BIGINT range (the nearest double): DOUBLE then.
      const s = Number.isInteger(n) && n > -INT64_LIMIT && n < INT64_LIMIT ? BIGINT : DOUBLE;
      return t === s || t === NULL ? s : isScalar(t) ? widenScalars(t, s) : STRING;
    }
    case 'object':
      break;
    default:
      return STRING;
  }
  if (Array.isArray(value)) {
    if (t === NULL) t = { kind: 'list', element: NULL };
    if (t.kind !== 'list') return STRING;
    let element = t.element;
    for (const item of value) element = observe(element, item);
    t.element = element;
    return t;
  }
  const object = value as Record<string, unknown>;
  if (t === NULL) {
    t = Object.keys(object).some(isDataKey) ? { kind: 'map', value: NULL } : newStruct();
  }
  if (t.kind === 'map') {
    let v = t.value;
    for (const key in object) v = observe(v, object[key]);
    t.value = v;
    return t;
  }
  if (t.kind !== 'struct') return STRING;
  const fields = t.fields;
  for (const key in object) {
    const existing = fields.get(key);
    if (existing === undefined) {
      const lower = key.toLowerCase();
      if (isDataKey(key) || t.lower.has(lower) || fields.size >= MAX_STRUCT_FIELDS) {
        return observe(structToMap(t), object);
      }
      t.lower.set(lower, key);
      fields.set(key, observe(NULL, object[key]));
      continue;
    }
    const next = observe(existing, object[key]);
    if (next !== existing) fields.set(key, next);
  }
  return t;
}

/**
 * Adds one event's top-level fields to a file's row schema. Top-level fields are columns: they cannot
 * fall back to a map, so a name that is empty, reserved, or equal to another column but for case
 * makes the event a dead letter (`RowError`).
 */
export function observeRow(
  root: StructType,
  row: Record<string, unknown>,
  reserved: ReadonlySet<string>,
): void {
  const fields = root.fields;
  for (const key in row) {
    const existing = fields.get(key);
    if (existing === undefined) {
      if (key === '') throw new RowError('field-name', 'a top-level field has an empty name');
      if (key.includes('\0'))
        throw new RowError('field-name', 'a top-level field name holds a NUL character');
      const lower = key.toLowerCase();
      if (reserved.has(lower)) {
        throw new RowError('field-name', `top-level field "${key}" uses a reserved column name`);
      }
      const other = root.lower.get(lower);
      if (other !== undefined) {
        throw new RowError('field-name', `top-level field "${key}" differs only in case from "${other}"`);
      }
      root.lower.set(lower, key);
      fields.set(key, observe(NULL, row[key]));
      continue;
    }
    const next = observe(existing, row[key]);
    if (next !== existing) fields.set(key, next);
  }
}

/** Whether every string and key in a parsed value is well-formed UTF-16 (DuckDB rejects lone surrogates). */
export function wellFormed(value: unknown): boolean {
  if (typeof value === 'string') return value.isWellFormed();
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every(wellFormed);
  for (const key in value as Record<string, unknown>) {
    if (!key.isWellFormed() || !wellFormed((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The DuckDB type written for `t`, or null when `t` holds no value yet (only nulls or empty objects):
 * such a field gets no column until a value arrives, so its first real type is not pinned to a guess.
 * Lists and maps of unknown content are written as VARCHAR elements.
 */
export function duckType(t: JsonType): string | null {
  switch (t.kind) {
    case 'null':
      return null;
    case 'boolean':
      return 'BOOLEAN';
    case 'bigint':
      return 'BIGINT';
    case 'double':
      return 'DOUBLE';
    case 'string':
      return 'VARCHAR';
    case 'list':
      return `${duckType(t.element) ?? 'VARCHAR'}[]`;
    case 'map':
      return `MAP(VARCHAR, ${duckType(t.value) ?? 'VARCHAR'})`;
    case 'struct': {
      const parts: string[] = [];
      for (const [name, f] of t.fields) {
        const type = duckType(f);
        if (type !== null) parts.push(`${quoteIdent(name)} ${type}`);
      }
      return parts.length > 0 ? `STRUCT(${parts.join(', ')})` : null;
    }
  }
}

export interface FieldDescription {
  /** `a.b` for struct fields, `a[]` for list elements, `a{}` for map values. */
  path: string;
  type: string;
}

/** Every node of a row schema, depth first, for reports and diffs. */
export function describeFields(root: StructType): FieldDescription[] {
  const out: FieldDescription[] = [];
  const walk = (path: string, t: JsonType) => {
    switch (t.kind) {
      case 'struct':
        out.push({ path, type: 'STRUCT' });
        for (const [name, f] of t.fields) walk(`${path}.${name}`, f);
        return;
      case 'list':
        out.push({ path, type: 'LIST' });
        walk(`${path}[]`, t.element);
        return;
      case 'map':
        out.push({ path, type: 'MAP' });
        walk(`${path}{}`, t.value);
        return;
      default:
        out.push({ path, type: t.kind === 'null' ? 'NULL' : duckType(t)! });
    }
  };
  for (const [name, t] of root.fields) walk(name, t);
  return out;
}
