import { z } from 'zod';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type JsonType,
  NULL,
  newStruct,
  STRING,
  type StructType,
} from '../../pipeline/json-schema.ts';

/**
 * The topic's running schema as stored beside the checkpoints (one small JSON document per topic and
 * consumer group), so that it only ever grows and widens, across restarts and across replicas.
 * Struct fields are arrays, not objects, to keep their first-seen order.
 */

const SCALAR_KINDS = ['null', 'boolean', 'bigint', 'double', 'string'] as const;

export type StoredType =
  | { kind: (typeof SCALAR_KINDS)[number] }
  | { kind: 'list'; element: StoredType }
  | { kind: 'map'; value: StoredType }
  | { kind: 'struct'; fields: StoredField[] };
export interface StoredField {
  name: string;
  type: StoredType;
}

const uniqueNames = (fields: readonly StoredField[], ctx: z.RefinementCtx) => {
  const seen = new Map<string, string>();
  for (const f of fields) {
    const lower = f.name.toLowerCase();
    const other = seen.get(lower);
    if (other !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `field "${f.name}" appears twice (as "${other}"); names must differ in more than case`,
      });
    }
    seen.set(lower, f.name);
  }
};

export const StoredType: z.ZodType<StoredType> = z.lazy(() =>
  z.union([
    z.strictObject({ kind: z.enum(SCALAR_KINDS) }),
    z.strictObject({ kind: z.literal('list'), element: StoredType }),
    z.strictObject({ kind: z.literal('map'), value: StoredType }),
    z.strictObject({ kind: z.literal('struct'), fields: z.array(StoredField).superRefine(uniqueNames) }),
  ]),
);
export const StoredField: z.ZodType<StoredField> = z.lazy(() =>
  z.strictObject({ name: z.string(), type: StoredType }),
);

export const SCHEMA_STATE_VERSION = 1;

export const SchemaState = z.object({
  formatVersion: z.literal(SCHEMA_STATE_VERSION, {
    error: `formatVersion must be ${SCHEMA_STATE_VERSION}`,
  }),
  topic: z.string(),
  /** sha256 of the sorted field list, as in schema versions. */
  fingerprint: z.string(),
  updatedAt: z.string(),
  updatedBy: z.string(),
  fields: z
    .array(
      z.strictObject({
        name: z.string().min(1, 'a top-level field has an empty name'),
        type: StoredType,
      }),
    )
    .superRefine(uniqueNames),
});
export type SchemaState = z.output<typeof SchemaState>;

/** A document that is damaged: not JSON, or not valid by the schema of the version it claims. */
export class SchemaStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaStateError';
  }
}

/**
 * A document written by a newer agent (a higher `formatVersion`): not damaged, only unknown to this
 * one. It must not be replaced — during a rolling upgrade or downgrade both versions would keep
 * overwriting each other — so the caller waits for it to become readable (or for an operator).
 */
export class SchemaStateVersionError extends Error {
  readonly formatVersion: number;
  constructor(where: string, formatVersion: number) {
    super(
      `${where} has formatVersion ${formatVersion}, written by a newer agent; this one reads up to ${SCHEMA_STATE_VERSION} and waits (upgrade it, or delete the document to start the schema afresh)`,
    );
    this.name = 'SchemaStateVersionError';
    this.formatVersion = formatVersion;
  }
}

const SCALARS: Record<(typeof SCALAR_KINDS)[number], JsonType> = {
  null: NULL,
  boolean: BOOLEAN,
  bigint: BIGINT,
  double: DOUBLE,
  string: STRING,
};

export function toStored(t: JsonType): StoredType {
  switch (t.kind) {
    case 'list':
      return { kind: 'list', element: toStored(t.element) };
    case 'map':
      return { kind: 'map', value: toStored(t.value) };
    case 'struct':
      return { kind: 'struct', fields: [...t.fields].map(([name, f]) => ({ name, type: toStored(f) })) };
    default:
      return { kind: t.kind };
  }
}

/** Scalars become the shared singletons: the merge lattice compares them by identity. */
export function fromStored(t: StoredType): JsonType {
  switch (t.kind) {
    case 'list':
      return { kind: 'list', element: fromStored(t.element) };
    case 'map':
      return { kind: 'map', value: fromStored(t.value) };
    case 'struct': {
      const out = newStruct();
      for (const f of t.fields) {
        out.fields.set(f.name, fromStored(f.type));
        out.lower.set(f.name.toLowerCase(), f.name);
      }
      return out;
    }
    default:
      return SCALARS[t.kind];
  }
}

export function serializeState(
  root: StructType,
  meta: { topic: string; fingerprint: string; updatedAt: Date; updatedBy: string },
): string {
  const state: SchemaState = {
    formatVersion: SCHEMA_STATE_VERSION,
    topic: meta.topic,
    fingerprint: meta.fingerprint,
    updatedAt: meta.updatedAt.toISOString(),
    updatedBy: meta.updatedBy,
    fields: (toStored(root) as Extract<StoredType, { kind: 'struct' }>).fields,
  };
  return `${JSON.stringify(state, null, 1)}\n`;
}

/**
 * Parses and validates a stored state; a `SchemaStateError` names every problem in plain words, a
 * `SchemaStateVersionError` says the document is from a newer agent.
 */
export function parseState(text: string, where: string): { root: StructType; state: SchemaState } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SchemaStateError(`${where} is not JSON: ${(error as Error).message}`);
  }
  const version = (json as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version === 'number' && Number.isInteger(version) && version > SCHEMA_STATE_VERSION) {
    throw new SchemaStateVersionError(where, version);
  }
  const parsed = SchemaState.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new SchemaStateError(`${where} is not a valid schema state: ${problems.join('; ')}`);
  }
  const root = fromStored({ kind: 'struct', fields: parsed.data.fields }) as StructType;
  return { root, state: parsed.data };
}
