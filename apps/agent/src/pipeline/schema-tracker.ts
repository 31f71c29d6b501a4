import { createHash } from 'node:crypto';
import {
  clone,
  describeFields,
  duckType,
  type FieldDescription,
  merge,
  newStruct,
  type StructType,
} from './json-schema.ts';

export interface SchemaVersion {
  /** Agent-local counter (1, 2, …); the control plane numbers versions per topic by fingerprint. */
  number: number;
  /** sha256 of the sorted field list: equal schemas have equal fingerprints across replicas. */
  fingerprint: string;
  fields: FieldDescription[];
  firstSeenAt: Date;
}

/** One column of a file: `source` is the event key it is read from (null: not in this file). */
export interface FileColumn {
  name: string;
  source: string | null;
  type: string;
}

export interface FilePlan {
  columns: FileColumn[];
  version: SchemaVersion;
}

export function fingerprint(fields: readonly FieldDescription[]): string {
  const sorted = [...fields].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return createHash('sha256')
    .update(JSON.stringify(sorted.map((f) => [f.path, f.type])))
    .digest('hex')
    .slice(0, 32);
}

/**
 * The topic's current schema as this agent knows it: the union of every field seen in every file,
 * each widened to hold all its values. Each file is written with the whole current schema, so the
 * newest file always describes every column (Spark without mergeSchema reads one footer) and a
 * column never changes type between files written by one agent (Spark's mergeSchema rejects an
 * int/double or int/string mix). Fields that stop appearing stay as null columns.
 */
export class SchemaTracker {
  #root: StructType = newStruct();
  #version: SchemaVersion | null = null;
  readonly #onVersion: ((version: SchemaVersion, previous: SchemaVersion | null) => void) | undefined;

  constructor(onVersion?: (version: SchemaVersion, previous: SchemaVersion | null) => void) {
    this.#onVersion = onVersion;
  }

  get current(): SchemaVersion | null {
    return this.#version;
  }

  /** Merges a file's row schema into the current one and returns the file's columns. */
  plan(file: StructType, now = new Date()): FilePlan {
    const next = clone(this.#root) as StructType;
    const sources = new Map<string, string>();
    for (const [key, t] of file.fields) {
      const lower = key.toLowerCase();
      // A name seen before in another case is the same column for DuckDB and Spark: keep the first spelling.
      const name = next.fields.has(key) ? key : (next.lower.get(lower) ?? key);
      const existing = next.fields.get(name);
      if (existing === undefined) {
        next.fields.set(name, clone(t));
        next.lower.set(lower, name);
      } else {
        next.fields.set(name, merge(existing, t));
      }
      sources.set(name, key);
    }
    this.#root = next;
    const fields = describeFields(next);
    const print = fingerprint(fields);
    if (this.#version?.fingerprint !== print) {
      const previous = this.#version;
      this.#version = {
        number: (previous?.number ?? 0) + 1,
        fingerprint: print,
        fields,
        firstSeenAt: now,
      };
      this.#onVersion?.(this.#version, previous);
    }
    const columns: FileColumn[] = [];
    for (const [name, t] of next.fields) {
      const type = duckType(t);
      if (type !== null) columns.push({ name, source: sources.get(name) ?? null, type });
    }
    return { columns, version: this.#version! };
  }
}

export interface SchemaDiff {
  added: FieldDescription[];
  removed: FieldDescription[];
  changed: { path: string; from: string; to: string }[];
}

export function diffFields(from: readonly FieldDescription[], to: readonly FieldDescription[]): SchemaDiff {
  const before = new Map(from.map((f) => [f.path, f.type]));
  const after = new Map(to.map((f) => [f.path, f.type]));
  return {
    added: to.filter((f) => !before.has(f.path)),
    removed: from.filter((f) => !after.has(f.path)),
    changed: to
      .filter((f) => before.has(f.path) && before.get(f.path) !== f.type)
      .map((f) => ({ path: f.path, from: before.get(f.path)!, to: f.type })),
  };
}
