import avro from 'avsc';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type JsonType,
  merge,
  NULL,
  newStruct,
  STRING,
  type StructType,
} from '../../pipeline/json-schema.ts';

/**
 * Avro records from a schema registry become Parquet columns through the same inference and widening
 * as JSON events, seeded with the types of the registered schema: a field declared `double` is a
 * DOUBLE column even while its values happen to be whole numbers, a field only ever null still gets
 * its column, and a new schema version merges into the running schema like any new JSON field.
 *
 * Mapping: int/long → BIGINT; float/double → DOUBLE; boolean → BOOLEAN; string/enum → VARCHAR;
 * bytes/fixed → VARCHAR (base64); timestamp-millis → VARCHAR (ISO 8601, UTC); other logical types →
 * their underlying type; record → STRUCT; array → list; map → MAP(VARCHAR, …); a union of null and
 * one type → that type (nullable); a union whose values avsc wraps (ambiguous branches, e.g. int|double or two records) → VARCHAR
 * holding the JSON text; a record that refers to itself → VARCHAR (JSON text) at the recursion.
 */

class TimestampMillis extends avro.types.LogicalType {
  override _fromValue(value: unknown): unknown {
    return new Date(value as number);
  }
  override _toValue(value: unknown): unknown {
    return value instanceof Date ? value.getTime() : undefined;
  }
}

/** Parses a registered definition the way the serializer does (timestamp-millis as a logical type). */
export function parseAvroSchema(definition: string): avro.Type {
  return avro.Type.forSchema(JSON.parse(definition) as avro.Schema, {
    logicalTypes: { 'timestamp-millis': TimestampMillis },
  });
}

interface TypeLike {
  typeName: string;
  name?: string;
  fields?: { name: string; type: TypeLike }[];
  itemsType?: TypeLike;
  valuesType?: TypeLike;
  types?: TypeLike[];
  underlyingType?: TypeLike;
}

export function avroJsonType(type: avro.Type, seen: ReadonlySet<TypeLike> = new Set()): JsonType {
  const t = type as unknown as TypeLike;
  switch (t.typeName) {
    case 'null':
      return NULL;
    case 'boolean':
      return BOOLEAN;
    case 'int':
    case 'long':
      return BIGINT;
    case 'float':
    case 'double':
      return DOUBLE;
    case 'string':
    case 'enum':
    case 'bytes':
    case 'fixed':
    case 'union:wrapped':
    case 'logical:timestamp-millis':
      return STRING;
    case 'array':
      return { kind: 'list', element: avroJsonType(t.itemsType as unknown as avro.Type, seen) };
    case 'map':
      return { kind: 'map', value: avroJsonType(t.valuesType as unknown as avro.Type, seen) };
    case 'union:unwrapped': {
      let out: JsonType = NULL;
      for (const branch of t.types ?? [])
        out = merge(out, avroJsonType(branch as unknown as avro.Type, seen));
      return out;
    }
    case 'record':
    case 'error': {
      if (seen.has(t)) return STRING;
      const inner = new Set(seen).add(t);
      let out: JsonType = newStruct();
      for (const field of t.fields ?? []) {
        const one = newStruct();
        one.fields.set(field.name, avroJsonType(field.type as unknown as avro.Type, inner));
        one.lower.set(field.name.toLowerCase(), field.name);
        out = merge(out, one);
      }
      return out;
    }
    default:
      if (t.typeName.startsWith('logical:') && t.underlyingType) {
        return avroJsonType(t.underlyingType as unknown as avro.Type, seen);
      }
      return STRING;
  }
}

/** The row schema of a registered record schema, or null when its top type is not a record. */
export function avroRowSchema(type: avro.Type): StructType | null {
  const t = avroJsonType(type);
  return t.kind === 'struct' ? t : null;
}

/**
 * A decoded Avro value as plain JSON: bytes as base64, dates as ISO strings, non-finite numbers as
 * text (JSON has no NaN), big integers as digits.
 */
export function avroToJson(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'string':
    case 'boolean':
      return value;
    case 'object':
      break;
    default:
      return String(value);
  }
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(avroToJson);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value as object))
    out[key] = avroToJson((value as Record<string, unknown>)[key]);
  return out;
}
