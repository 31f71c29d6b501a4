import { createHash } from 'node:crypto';
import {
  clone,
  describeFields,
  duckType,
  type FieldDescription,
  merge,
  newStruct,
  type StructType,
} from '../../pipeline/json-schema.ts';
import { type BackoffOptions, backoffDelay, sleepUnlessAborted } from '../../runtime/backoff.ts';
import { retryStorage } from '../../sink/retry.ts';
import type { SchemaVersion } from '../format.ts';
import { parseState, SchemaStateError, SchemaStateVersionError, serializeState } from './schema-state.ts';
import type { SchemaStateStore } from './schema-store.ts';

export type { SchemaVersion } from '../format.ts';

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

export interface SchemaTrackerOptions {
  /** Called when the schema changes (locally, or because another replica widened the stored one). */
  onVersion?: (version: SchemaVersion, previous: SchemaVersion | null) => void;
  /**
   * Where the running schema is kept between runs and shared between replicas. Without one the schema
   * lives only in memory (tests, benchmarks).
   */
  store?: SchemaStateStore;
  /** Written into the stored state (topic name, this replica's id). */
  topic?: string;
  agentId?: string;
  /**
   * Called for every failed store operation (retried with backoff until it succeeds or close()), for
   * every read of a document from a newer agent (a `SchemaStateVersionError`; waited on the same way),
   * and for every lost compare-and-swap from the `conflictsBeforeReport`-th in a row on (`attempt`
   * counts from 0 there too).
   */
  onStoreError?: (error: unknown, attempt: number) => void;
  /** Called once a plan's read-merge-write has completed (clears what onStoreError reported). */
  onStoreSuccess?: () => void;
  /** A damaged stored state (not JSON, or invalid for its version): kept aside and replaced (README). */
  onUnreadableState?: (error: SchemaStateError, keptAs: string) => void;
  backoff?: BackoffOptions;
  /** The random wait after a lost compare-and-swap, growing with the conflicts in a row. */
  conflictBackoff?: BackoffOptions;
  /** Lost compare-and-swaps in a row before each further one is reported through onStoreError. */
  conflictsBeforeReport?: number;
}

/**
 * The topic's running schema: the union of every field seen in every file, each widened to hold all
 * its values. Each file is written with the whole running schema, so the newest file always describes
 * every column (Spark without mergeSchema reads one footer) and a column never narrows from one file
 * to the next (Spark's mergeSchema rejects an int/double or int/string mix). Fields that stop
 * appearing stay as null columns.
 *
 * With a store, `plan` reads the stored schema, merges it in, and writes the result back (compare-and-
 * swap on the ETag, re-read and merge again on a conflict) before it returns: the file is published
 * only after that, so no published file carries a column or a type the store does not know. Across
 * restarts and replicas the schema therefore only grows and widens.
 */
export class SchemaTracker {
  #root: StructType = newStruct();
  #version: SchemaVersion | null = null;
  readonly #o: SchemaTrackerOptions;
  /** Plans run one at a time: each is read → merge → compare-and-swap, and they share #root. */
  #queue: Promise<unknown> = Promise.resolve();
  readonly #closing = new AbortController();

  constructor(options: SchemaTrackerOptions = {}) {
    this.#o = options;
  }

  get current(): SchemaVersion | null {
    return this.#version;
  }

  /**
   * Merges a file's row schema into the running one (and the stored one) and returns the file's
   * columns. Storage failures are retried with backoff until they succeed or the tracker is closed:
   * the file waits, no event is dropped.
   */
  plan(file: StructType, now = new Date()): Promise<FilePlan> {
    const run = this.#queue.then(() => this.#plan(file, now));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Stops retrying store operations (pending plans reject). Idempotent. */
  close(): void {
    this.#closing.abort(new Error('schema tracker closed'));
  }

  async #plan(file: StructType, now: Date): Promise<FilePlan> {
    let next = mergeRoot(this.#root, file);
    if (this.#o.store) next = await this.#sync(this.#o.store, next, now);
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
      this.#o.onVersion?.(this.#version, previous);
    }
    const sources = new Map<string, string>();
    for (const key of file.fields.keys()) {
      const name = next.fields.has(key) ? key : next.lower.get(key.toLowerCase());
      if (name !== undefined) sources.set(name, key);
    }
    const columns: FileColumn[] = [];
    for (const [name, t] of next.fields) {
      const type = duckType(t);
      if (type !== null) columns.push({ name, source: sources.get(name) ?? null, type });
    }
    return { columns, version: this.#version! };
  }

  /** Read, merge, compare-and-swap until the stored schema holds `wanted`; returns the merged schema. */
  async #sync(store: SchemaStateStore, wanted: StructType, now: Date): Promise<StructType> {
    const signal = this.#closing.signal;
    let conflicts = 0;
    let newerWaits = 0;
    for (;;) {
      const read = await this.#retry('read schema state', (s) => store.read(s));
      let merged = wanted;
      let storedPrint: string | null = null;
      if (read) {
        try {
          const { root } = parseState(read.text, store.location);
          merged = mergeRoot(root, wanted);
          storedPrint = fingerprint(describeFields(root));
        } catch (error) {
          if (error instanceof SchemaStateVersionError) {
            // A newer agent's document: never overwritten (old and new agents would keep replacing
            // each other during a rolling upgrade). The file waits, like for a storage outage.
            this.#o.onStoreError?.(error, newerWaits);
            const delay = backoffDelay(newerWaits++, this.#o.backoff ?? { baseMs: 200, maxMs: 15_000 });
            if (!(await sleepUnlessAborted(Math.max(delay, 100), signal))) throw signal.reason;
            continue;
          }
          if (!(error instanceof SchemaStateError)) throw error;
          // A damaged document is replaced rather than stalling ingestion until the hub's retention
          // drops events. The replacement is this replica's in-memory schema: what it has planned or
          // read since it started — after a restart, only the fields of the file being planned. Stored
          // fields outside it are gone from the running schema: later files lack those columns until
          // their events come back (or another replica merges them in again), and a widened field may
          // come back narrower (DOUBLE stored, BIGINT again), a type change between files that DuckDB's
          // union_by_name reads but Spark's mergeSchema rejects.
          const keptAs = await this.#retry('keep unreadable schema state', (s) =>
            store.keepAside(read.text, s),
          );
          this.#o.onUnreadableState?.(error, keptAs);
        }
      }
      const print = fingerprint(describeFields(merged));
      // Nothing to add or widen: the stored document already holds the merged schema.
      if (read && print === storedPrint) {
        this.#o.onStoreSuccess?.();
        return merged;
      }
      const text = serializeState(merged, {
        topic: this.#o.topic ?? '',
        fingerprint: print,
        updatedAt: now,
        updatedBy: this.#o.agentId ?? '',
      });
      const etag = await this.#retry('write schema state', (s) => store.write(text, read?.etag ?? null, s));
      if (etag !== null) {
        this.#o.onStoreSuccess?.();
        return merged;
      }
      // Another replica wrote first: read its schema and merge again, after a short random wait so
      // that replicas widening at once do not keep colliding. Many conflicts in a row are reported.
      const lost = ++conflicts;
      const reportAfter = this.#o.conflictsBeforeReport ?? 5;
      if (lost >= reportAfter) {
        this.#o.onStoreError?.(
          new Error(
            `write schema state: another writer changed ${store.location} first, ${lost} times in a row`,
          ),
          lost - reportAfter,
        );
      }
      const wait = backoffDelay(lost - 1, this.#o.conflictBackoff ?? { baseMs: 20, maxMs: 1000 });
      if (!(await sleepUnlessAborted(wait, signal))) throw signal.reason;
    }
  }

  #retry<T>(what: string, operation: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const signal = this.#closing.signal;
    return retryStorage(what, (s) => operation(s ?? signal), {
      signal,
      backoff: this.#o.backoff ?? { baseMs: 200, maxMs: 15_000 },
      onError: (info, attempt) => this.#o.onStoreError?.(new Error(`${what}: ${info.message}`), attempt),
    });
  }
}

/**
 * `into` with the top-level fields of `from` merged in (a new field is appended, an existing one
 * widened). A name seen before in another case is the same column for DuckDB and Spark: the first
 * spelling is kept. Never mutates its inputs.
 */
export function mergeRoot(into: StructType, from: StructType): StructType {
  const next = clone(into) as StructType;
  for (const [key, t] of from.fields) {
    const lower = key.toLowerCase();
    const name = next.fields.has(key) ? key : (next.lower.get(lower) ?? key);
    const existing = next.fields.get(name);
    if (existing === undefined) {
      next.fields.set(name, clone(t));
      next.lower.set(lower, name);
    } else {
      next.fields.set(name, merge(existing, t));
    }
  }
  return next;
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
