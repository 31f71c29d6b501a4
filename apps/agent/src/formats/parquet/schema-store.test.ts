import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ContainerClient } from '@azure/storage-blob';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newStruct, observeRow, type StructType } from '../../pipeline/json-schema.ts';
import { parseState, SchemaStateError, SchemaStateVersionError, serializeState } from './schema-state.ts';
import {
  BlobSchemaStateStore,
  FileSchemaStateStore,
  type SchemaStateKey,
  type SchemaStateStore,
  schemaStatePath,
  takeOverStaleLock,
} from './schema-store.ts';
import { type FilePlan, mergeRoot, SchemaTracker } from './schema-tracker.ts';

let azurite: Azurite;
let dir: string;
beforeAll(async () => {
  azurite = await startAzurite();
  dir = await mkdtemp(join(tmpdir(), 'hubcap-schema-store-'));
});
afterAll(async () => {
  await azurite.close();
  await rm(dir, { recursive: true, force: true });
});

let keyNo = 0;
function key(): SchemaStateKey {
  return {
    topic: `orders-${++keyNo}`,
    fullyQualifiedNamespace: 'ns.servicebus.windows.net',
    eventHubName: 'Orders',
    consumerGroup: '$Default',
  };
}

/** A file's row schema, inferred from its rows exactly as the Parquet encoder does. */
function rows(...values: Record<string, unknown>[]): StructType {
  const root = newStruct();
  for (const v of values) observeRow(root, v, new Set());
  return root;
}

const types = (plan: FilePlan) => Object.fromEntries(plan.columns.map((c) => [c.name, c.type]));

/** Counts the reads, writes, compare-and-swap conflicts and failed writes of a real store. */
class Counting implements SchemaStateStore {
  conflicts = 0;
  writes = 0;
  reads = 0;
  failedWrites = 0;
  readonly inner: SchemaStateStore;
  constructor(inner: SchemaStateStore) {
    this.inner = inner;
  }
  get location() {
    return this.inner.location;
  }
  read(signal?: AbortSignal) {
    this.reads++;
    return this.inner.read(signal);
  }
  async write(text: string, etag: string | null, signal?: AbortSignal) {
    const result = await this.inner.write(text, etag, signal).catch((error: unknown) => {
      this.failedWrites++;
      throw error;
    });
    if (result === null) this.conflicts++;
    else this.writes++;
    return result;
  }
  keepAside(text: string, signal?: AbortSignal) {
    return this.inner.keepAside(text, signal);
  }
}

/**
 * Another replica, for real: before each of the first `times` writes through this store it adds a
 * field of its own to the stored document (read, merge, compare-and-swap), so those writes lose.
 */
class Rival extends Counting {
  readonly times: number;
  rivalWrites = 0;
  constructor(inner: SchemaStateStore, times: number) {
    super(inner);
    this.times = times;
  }
  override async write(text: string, etag: string | null, signal?: AbortSignal) {
    if (this.rivalWrites < this.times) {
      const current = await this.inner.read();
      const base = current ? parseState(current.text, 'rival').root : newStruct();
      const next = mergeRoot(base, rows({ [`rival${this.rivalWrites}`]: true }));
      const meta = { topic: 't', fingerprint: 'f', updatedAt: new Date(), updatedBy: 'rival' };
      expect(await this.inner.write(serializeState(next, meta), current?.etag ?? null)).not.toBeNull();
      this.rivalWrites++;
    }
    return super.write(text, etag, signal);
  }
}

const backends: [string, (k: SchemaStateKey) => Promise<SchemaStateStore>][] = [
  [
    'Azurite blob (checkpoint container)',
    async (k) => {
      const container = await azurite.container('hubcap-checkpoints');
      return new BlobSchemaStateStore(container, k);
    },
  ],
  ['local folder', async (k) => new FileSchemaStateStore(dir, k)],
];

describe.each(backends)('running schema persisted in the %s', (_, storeFor) => {
  it('keeps a widened type across a restart (no narrowing in the next file)', async () => {
    const k = key();
    const first = new SchemaTracker({ store: await storeFor(k), topic: k.topic, agentId: 'a' });
    expect(types(await first.plan(rows({ id: 1, amount: 3 })))).toEqual({ id: 'BIGINT', amount: 'BIGINT' });
    expect(types(await first.plan(rows({ id: 2, amount: 3.5 })))).toEqual({ id: 'BIGINT', amount: 'DOUBLE' });
    first.close();

    const restarted = new SchemaTracker({ store: await storeFor(k), topic: k.topic, agentId: 'a' });
    const plan = await restarted.plan(rows({ id: 3, amount: 4 }));
    expect(types(plan)).toEqual({ id: 'BIGINT', amount: 'DOUBLE' });
    expect(plan.columns.find((c) => c.name === 'amount')?.source).toBe('amount');
    // A field of the stored schema that this file lacks is still a (null) column.
    const later = await restarted.plan(rows({ note: 'x' }));
    expect(later.columns.map((c) => [c.name, c.source])).toEqual([
      ['id', null],
      ['amount', null],
      ['note', 'note'],
    ]);
    restarted.close();
  });

  it('two replicas sharing the store converge on one schema', async () => {
    const k = key();
    const a = new SchemaTracker({ store: await storeFor(k), topic: k.topic, agentId: 'a' });
    const b = new SchemaTracker({ store: await storeFor(k), topic: k.topic, agentId: 'b' });
    await a.plan(rows({ id: 1, price: 1 }));
    // b's first file already has a's columns; then b meets price as a double and widens it.
    expect(types(await b.plan(rows({ id: 2, user: 'ann' })))).toEqual({
      id: 'BIGINT',
      price: 'BIGINT',
      user: 'VARCHAR',
    });
    expect(types(await b.plan(rows({ price: 2.5 })))).toEqual({
      id: 'BIGINT',
      price: 'DOUBLE',
      user: 'VARCHAR',
    });
    // a learns both changes on its next file, though its own events are narrow.
    expect(types(await a.plan(rows({ id: 3, price: 4 })))).toEqual({
      id: 'BIGINT',
      price: 'DOUBLE',
      user: 'VARCHAR',
    });
    expect(a.current?.fingerprint).toBe(b.current?.fingerprint);
    a.close();
    b.close();
  });

  it('concurrent writers: a lost compare-and-swap re-reads and merges, no field is lost', async () => {
    const k = key();
    const stores = await Promise.all([1, 2, 3, 4].map(async () => new Counting(await storeFor(k))));
    const trackers = stores.map(
      (store, i) =>
        new SchemaTracker({ store, topic: k.topic, agentId: `r${i}`, backoff: { baseMs: 1, maxMs: 5 } }),
    );
    // Every replica adds its own field and widens a shared one, all at once, several times.
    const plans = await Promise.all(
      trackers.flatMap((t, i) =>
        [0, 1, 2].map((round) =>
          t.plan(rows({ shared: round === 2 && i === 3 ? 'text' : i, [`f${i}_${round}`]: true })),
        ),
      ),
    );
    const conflicts = stores.reduce((n, s) => n + s.conflicts, 0);
    expect(conflicts).toBeGreaterThan(0);
    for (const plan of plans) expect(plan.columns.length).toBeGreaterThan(1);

    const fresh = new SchemaTracker({ store: await storeFor(k) });
    const final = types(await fresh.plan(newStruct()));
    expect(final.shared).toBe('VARCHAR');
    for (let i = 0; i < 4; i++) for (let r = 0; r < 3; r++) expect(final[`f${i}_${r}`]).toBe('BOOLEAN');
    // Each replica's own files only ever grew: its last plan holds every column of its first.
    for (let i = 0; i < 4; i++) {
      const own = plans.slice(i * 3, i * 3 + 3).map(types);
      for (const name of Object.keys(own[0]!)) expect(own[2]).toHaveProperty(name);
    }
    for (const t of trackers) t.close();
    fresh.close();
  });

  it('lost compare-and-swaps wait a random moment and re-read; many in a row are reported', async () => {
    const k = key();
    const store = new Rival(await storeFor(k), 7);
    const errors: { message: string; attempt: number }[] = [];
    let waits = 0;
    let succeeded = 0;
    const tracker = new SchemaTracker({
      store,
      topic: k.topic,
      conflictBackoff: {
        baseMs: 1,
        maxMs: 5,
        random: () => {
          waits++;
          return 0.5;
        },
      },
      onStoreError: (error, attempt) => errors.push({ message: (error as Error).message, attempt }),
      onStoreSuccess: () => succeeded++,
    });
    const plan = await tracker.plan(rows({ id: 1 }));
    // Seven writes lost to the rival, each followed by one wait and one fresh read; the eighth won.
    expect(store.conflicts).toBe(7);
    expect(waits).toBe(7);
    expect(store.reads).toBe(8);
    expect(store.writes).toBe(1);
    // Reported from the fifth conflict in a row on.
    expect(errors.map((e) => e.attempt)).toEqual([0, 1, 2]);
    expect(errors[0]!.message).toMatch(/another writer changed .* first, 5 times in a row/);
    expect(succeeded).toBe(1);
    // Nothing the rival added was lost.
    expect(Object.keys(types(plan)).sort()).toEqual(
      ['id', ...[0, 1, 2, 3, 4, 5, 6].map((i) => `rival${i}`)].sort(),
    );
    tracker.close();
  });

  it('a document from a newer agent (higher formatVersion) is waited on, reported, never overwritten', async () => {
    const k = key();
    const store = new Counting(await storeFor(k));
    const newer = `${JSON.stringify({ formatVersion: 2, topic: k.topic, columns: [{ name: 'future' }] })}\n`;
    expect(await store.write(newer, null)).not.toBeNull();
    const writesBefore = store.writes;
    const errors: { error: unknown; attempt: number }[] = [];
    let succeeded = 0;
    const tracker = new SchemaTracker({
      store,
      topic: k.topic,
      backoff: { baseMs: 1, maxMs: 5 },
      onStoreError: (error, attempt) => errors.push({ error, attempt }),
      onStoreSuccess: () => succeeded++,
      onUnreadableState: () => expect.unreachable(),
    });
    const plan = tracker.plan(rows({ id: 1 }));
    while (errors.length < 3) await new Promise((r) => setTimeout(r, 10));
    // Reported on every read (readiness turns false from the third), nothing written or kept aside.
    expect(errors.slice(0, 3).map((e) => e.attempt)).toEqual([0, 1, 2]);
    expect(errors[0]!.error).toBeInstanceOf(SchemaStateVersionError);
    expect((errors[0]!.error as Error).message).toMatch(/formatVersion 2, written by a newer agent/);
    expect(store.writes).toBe(writesBefore);
    expect(store.conflicts).toBe(0);
    expect((await store.read())?.text).toBe(newer);
    expect(succeeded).toBe(0);

    // The newer agent is rolled back (or an operator acts): a version-1 document takes its place.
    const current = await store.read();
    const v1 = serializeState(rows({ kept: 'x' }), {
      topic: k.topic,
      fingerprint: 'f',
      updatedAt: new Date(),
      updatedBy: 'operator',
    });
    expect(await store.write(v1, current!.etag)).not.toBeNull();
    expect(types(await plan)).toEqual({ kept: 'VARCHAR', id: 'BIGINT' });
    expect(succeeded).toBe(1);
    tracker.close();
  });

  it('an unreadable stored state is kept aside with a clear error and replaced; ingestion goes on', async () => {
    const k = key();
    const store = await storeFor(k);
    expect(
      await store.write('{"formatVersion":1,"fields":[{"name":"a","type":{"kind":"int"}}]}', null),
    ).not.toBeNull();
    const problems: { error: SchemaStateError; keptAs: string }[] = [];
    const tracker = new SchemaTracker({
      store,
      topic: k.topic,
      onUnreadableState: (error, keptAs) => problems.push({ error, keptAs }),
    });
    expect(types(await tracker.plan(rows({ id: 1 })))).toEqual({ id: 'BIGINT' });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.error).toBeInstanceOf(SchemaStateError);
    expect(problems[0]!.error.message).toContain('is not a valid schema state');
    expect(problems[0]!.error.message).toContain('topic');
    expect(problems[0]!.keptAs).toContain('.unreadable-');
    // The replacement is valid: the next reader has no complaint.
    const again = new SchemaTracker({ store, onUnreadableState: () => expect.unreachable() });
    expect(types(await again.plan(newStruct()))).toEqual({ id: 'BIGINT' });
    tracker.close();
    again.close();
  });
});

describe('schema state storage', () => {
  it('lives in the checkpoint container, one blob per topic and consumer group', async () => {
    const container: ContainerClient = await azurite.container('hubcap-checkpoints');
    const k = key();
    const tracker = new SchemaTracker({
      store: new BlobSchemaStateStore(container, k),
      topic: k.topic,
      agentId: 'a',
    });
    await tracker.plan(rows({ id: 1 }));
    const name = schemaStatePath(k);
    expect(name).toBe(`schema/${k.topic}/ns.servicebus.windows.net/orders/%24default.json`);
    const stored = JSON.parse((await container.getBlockBlobClient(name).downloadToBuffer()).toString());
    expect(stored).toMatchObject({
      formatVersion: 1,
      topic: k.topic,
      updatedBy: 'a',
      fingerprint: tracker.current?.fingerprint,
      fields: [{ name: 'id', type: { kind: 'bigint' } }],
    });
    tracker.close();
  });

  it('a lease held on the schema blob is a store error: reported and retried with backoff, not re-read at once; the plan completes once released', async () => {
    const container = await azurite.container('hubcap-checkpoints');
    const k = key();
    const store = new Counting(new BlobSchemaStateStore(container, k));
    const first = new SchemaTracker({ store, topic: k.topic });
    await first.plan(rows({ id: 1 }));
    first.close();
    const lease = container.getBlockBlobClient(schemaStatePath(k)).getBlobLeaseClient();
    await lease.acquireLease(-1);

    const errors: { message: string; attempt: number }[] = [];
    let succeeded = 0;
    const tracker = new SchemaTracker({
      store,
      topic: k.topic,
      backoff: { baseMs: 20, maxMs: 50 },
      onStoreError: (error, attempt) => errors.push({ message: (error as Error).message, attempt }),
      onStoreSuccess: () => succeeded++,
    });
    const reads = store.reads;
    const plan = tracker.plan(rows({ id: 2, note: 'x' }));
    // Bounded by reads too, so a re-read loop fails the assertions below instead of hanging.
    while (errors.length < 4 && store.reads - reads < 50) await new Promise((r) => setTimeout(r, 10));
    // One read, then only the refused write, each attempt reported before the next (the retry path).
    expect(store.reads - reads).toBe(1);
    expect(store.conflicts).toBe(0);
    expect(store.failedWrites).toBe(errors.length);
    expect(errors.map((e) => e.attempt)).toEqual(errors.map((_, i) => i));
    for (const e of errors) expect(e.message).toMatch(/^write schema state: 412 LeaseIdMissing/);
    expect(succeeded).toBe(0);

    await lease.releaseLease();
    expect(types(await plan)).toEqual({ id: 'BIGINT', note: 'VARCHAR' });
    expect(succeeded).toBe(1);
    const stored = JSON.parse(
      (await container.getBlockBlobClient(schemaStatePath(k)).downloadToBuffer()).toString(),
    );
    expect(stored.fields.map((f: { name: string }) => f.name)).toEqual(['id', 'note']);
    tracker.close();
  });

  it('writes only when the schema changes', async () => {
    const k = key();
    const store = new Counting(new FileSchemaStateStore(dir, k));
    const tracker = new SchemaTracker({ store });
    await tracker.plan(rows({ id: 1 }));
    await tracker.plan(rows({ id: 2 }));
    await tracker.plan(rows({ id: 3, x: 'y' }));
    await tracker.plan(rows({ id: 4 }));
    expect(store.writes).toBe(2);
    const files = await readdir(join(dir, 'schema', k.topic, 'ns.servicebus.windows.net', 'orders'));
    expect(files).toEqual(['%24default.json']);
    expect(
      JSON.parse(await readFile(join(dir, ...schemaStatePath(k).split('/')), 'utf8')).fields,
    ).toHaveLength(2);
    tracker.close();
  });

  it('a stale lock is taken over by one waiter only; a fresh lock taken meanwhile is left alone', async () => {
    const k = key();
    const path = join(dir, ...schemaStatePath(k).split('/'));
    const lock = `${path}.lock`;
    await mkdir(dirname(path), { recursive: true });
    const old = new Date(Date.now() - 120_000);
    // Two waiters found the same lock stale; the first took it over and holds a fresh lock now.
    await writeFile(lock, '');
    await utimes(lock, old, old);
    const seen = await stat(lock);
    expect(await takeOverStaleLock(lock, seen)).toBe(true);
    await writeFile(lock, '');
    const fresh = await stat(lock);
    // The second waiter acts on what it saw: the fresh lock survives, untouched.
    expect(await takeOverStaleLock(lock, seen)).toBe(false);
    expect((await stat(lock)).ino).toBe(fresh.ino);
    await rm(lock);

    // End to end: several agents meet a stale lock at once; every field still reaches the document.
    await writeFile(lock, '');
    await utimes(lock, old, old);
    const trackers = [0, 1, 2, 3].map(
      (i) => new SchemaTracker({ store: new FileSchemaStateStore(dir, k), agentId: `r${i}` }),
    );
    await Promise.all(trackers.map((t, i) => t.plan(rows({ [`f${i}`]: i }))));
    const fresher = new SchemaTracker({ store: new FileSchemaStateStore(dir, k) });
    expect(Object.keys(types(await fresher.plan(newStruct()))).sort()).toEqual(['f0', 'f1', 'f2', 'f3']);
    expect((await readdir(dirname(path))).filter((n) => n.includes('.lock'))).toEqual([]);
    for (const t of [...trackers, fresher]) t.close();
  });

  it('a failing store is retried (the file waits), reported, and the plan succeeds once it recovers', async () => {
    const k = key();
    const inner = new FileSchemaStateStore(dir, k);
    let failures = 2;
    const flaky: SchemaStateStore = {
      location: inner.location,
      read: () => {
        if (failures-- > 0)
          return Promise.reject(Object.assign(new Error('service unavailable'), { statusCode: 503 }));
        return inner.read();
      },
      write: (text, etag, signal) => inner.write(text, etag, signal),
      keepAside: (text) => inner.keepAside(text),
    };
    const errors: number[] = [];
    let recovered = 0;
    const tracker = new SchemaTracker({
      store: flaky,
      backoff: { baseMs: 1, maxMs: 5 },
      onStoreError: (_, attempt) => errors.push(attempt),
      onStoreSuccess: () => recovered++,
    });
    expect(types(await tracker.plan(rows({ id: 1 })))).toEqual({ id: 'BIGINT' });
    expect(errors).toEqual([0, 1]);
    expect(recovered).toBeGreaterThan(0);
    tracker.close();
  });

  it('close() ends a plan that waits for an unreachable store', async () => {
    const tracker = new SchemaTracker({
      store: {
        location: 'nowhere',
        read: () =>
          Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
        write: () => Promise.resolve(null),
        keepAside: () => Promise.resolve(''),
      },
      backoff: { baseMs: 1, maxMs: 5 },
    });
    const plan = tracker.plan(rows({ id: 1 }));
    setTimeout(() => tracker.close(), 50);
    await expect(plan).rejects.toThrow(/aborted/);
  });
});
