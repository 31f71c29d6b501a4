import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { duckDbForTests, writeParquetSegment } from '../../../test/parquet-segment.ts';
import { parquetColumns, readParquet } from '../../../test/read-back.ts';
import type { DeadLetterRecord } from '../../pipeline/dead-letter.ts';
import type { SourceEvent } from '../../pipeline/event.ts';
import type { SegmentResult } from '../format.ts';
import { FileSchemaStateStore } from './schema-store.ts';
import { SchemaTracker, type SchemaVersion } from './schema-tracker.ts';

const duck = duckDbForTests('hubcap-parquet-');

const base = Date.UTC(2026, 2, 7, 9, 0, 0, 123);
function ev(seq: number, body: unknown, extra: Partial<SourceEvent> = {}): SourceEvent {
  return {
    body: Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)),
    sequenceNumber: seq,
    offset: String(seq * 100),
    enqueuedTimeUtc: new Date(base + seq),
    ...extra,
  };
}

let fileNo = 0;
async function encode(
  tracker: SchemaTracker,
  batches: SourceEvent[][],
  maxBodyBytes = 1024 * 1024,
): Promise<{ path: string; bytes: Buffer; deadLetters: DeadLetterRecord[]; result: SegmentResult }> {
  const path = join(duck.dir, `f${++fileNo}.parquet`);
  const { engine } = duck;
  return { path, ...(await writeParquetSegment({ engine, tracker, maxBodyBytes }, batches, path, '3')) };
}

describe('Parquet encoder (DuckDB COPY), read back with DuckDB', () => {
  it('writes nested JSON as structs, lists and maps, with the Event Hubs metadata columns', async () => {
    const tracker = new SchemaTracker();
    const { path, result } = await encode(tracker, [
      [
        ev(
          10,
          {
            id: 1,
            user: { name: 'ann', geo: { lat: 51.5, lon: -0.1 } },
            tags: ['a', 'b'],
            headers: { 'content-type': 'application/json', 'x-request-id': 'r1' },
            ok: true,
          },
          { partitionKey: 'pk', properties: { source: 'web', n: 3 } },
        ),
      ],
      [ev(11, { id: 2, user: { name: 'bob' }, tags: [], headers: { accept: '*/*' }, ok: false, note: null })],
    ]);
    expect(result.rows).toBe(2);
    expect(await parquetColumns(path)).toEqual({
      id: 'BIGINT',
      user: 'STRUCT("name" VARCHAR, geo STRUCT(lat DOUBLE, lon DOUBLE))',
      tags: 'VARCHAR[]',
      headers: 'MAP(VARCHAR, VARCHAR)',
      ok: 'BOOLEAN',
      _eh_partition: 'VARCHAR',
      _eh_sequence_number: 'BIGINT',
      _eh_offset: 'VARCHAR',
      _eh_enqueued_time: 'TIMESTAMP WITH TIME ZONE',
      _eh_partition_key: 'VARCHAR',
      _eh_properties: 'MAP(VARCHAR, VARCHAR)',
    });
    const rows = await readParquet([path]);
    expect(rows).toEqual([
      {
        id: '1',
        user: { name: 'ann', geo: { lat: 51.5, lon: -0.1 } },
        tags: ['a', 'b'],
        headers: [
          { key: 'content-type', value: 'application/json' },
          { key: 'x-request-id', value: 'r1' },
        ],
        ok: true,
        _eh_partition: '3',
        _eh_sequence_number: '10',
        _eh_offset: '1000',
        _eh_enqueued_time: '2026-03-07 09:00:00.133+00',
        _eh_partition_key: 'pk',
        _eh_properties: [
          { key: 'source', value: 'web' },
          { key: 'n', value: '3' },
        ],
      },
      {
        id: '2',
        user: { name: 'bob', geo: null },
        tags: [],
        headers: [{ key: 'accept', value: '*/*' }],
        ok: false,
        _eh_partition: '3',
        _eh_sequence_number: '11',
        _eh_offset: '1100',
        _eh_enqueued_time: '2026-03-07 09:00:00.134+00',
        _eh_partition_key: null,
        _eh_properties: null,
      },
    ]);
    // `note` was only ever null: no column yet, but it is part of the schema version.
    expect(result.schema?.fields).toContainEqual({ path: 'note', type: 'NULL' });
  });

  it('evolves across files: a new field is a new nullable column, a conflicting type widens, nothing is lost', async () => {
    const versions: SchemaVersion[] = [];
    const tracker = new SchemaTracker({ onVersion: (v) => versions.push(v) });
    const f1 = await encode(tracker, [[ev(0, { a: 1, b: 'x' }), ev(1, { a: 2, b: 'y' })]]);
    const f2 = await encode(tracker, [[ev(2, { a: 2.5, c: { d: 1 } })]]);
    const f3 = await encode(tracker, [[ev(3, { a: 'three', b: 'z', c: { d: 4, e: true } })]]);
    const f4 = await encode(tracker, [[ev(4, { a: 5, b: 'w' })]]);

    expect(await parquetColumns(f1.path)).toMatchObject({ a: 'BIGINT', b: 'VARCHAR' });
    expect(await parquetColumns(f2.path)).toMatchObject({ a: 'DOUBLE', b: 'VARCHAR', c: 'STRUCT(d BIGINT)' });
    expect(await parquetColumns(f3.path)).toMatchObject({ a: 'VARCHAR', c: 'STRUCT(d BIGINT, e BOOLEAN)' });
    // Once widened, a column keeps its widest type (Spark's mergeSchema rejects long/string mixes).
    expect(await parquetColumns(f4.path)).toMatchObject({ a: 'VARCHAR', c: 'STRUCT(d BIGINT, e BOOLEAN)' });
    expect(versions.map((v) => v.number)).toEqual([1, 2, 3]);
    expect(f4.result.schema?.number).toBe(3);

    const rows = await readParquet([f1.path, f2.path, f3.path, f4.path], { select: 'a, b, c' });
    expect(rows).toEqual([
      { a: '1', b: 'x', c: null },
      { a: '2', b: 'y', c: null },
      { a: '2.5', b: null, c: { d: '1', e: null } },
      { a: 'three', b: 'z', c: { d: '4', e: true } },
      { a: '5', b: 'w', c: null },
    ]);
  });

  it('widens within one file: int → double → string, object vs scalar kept as JSON text, big integers exact', async () => {
    const tracker = new SchemaTracker();
    const { path } = await encode(tracker, [
      [
        ev(0, Buffer.from('{"v":1,"n":1,"l":[1,2],"big":9007199254740993}')),
        ev(1, { v: 2.5, n: 2.25, l: [2.5] }),
        ev(2, { v: 'str', n: 3 }),
        ev(3, { v: { k: [1, 'x'] }, s: { '': 1, 'a.b': 2 } }),
      ],
    ]);
    expect(await parquetColumns(path)).toMatchObject({
      v: 'VARCHAR',
      n: 'DOUBLE',
      l: 'DOUBLE[]',
      big: 'BIGINT',
      s: 'MAP(VARCHAR, BIGINT)',
    });
    const rows = await readParquet([path], { select: 'v, n, l, big, s' });
    expect(rows).toEqual([
      { v: '1', n: 1, l: [1, 2], big: '9007199254740993', s: null },
      { v: '2.5', n: 2.25, l: [2.5], big: null, s: null },
      { v: 'str', n: 3, l: null, big: null, s: null },
      {
        v: '{"k":[1,"x"]}',
        n: null,
        l: null,
        big: null,
        s: [
          { key: '', value: '1' },
          { key: 'a.b', value: '2' },
        ],
      },
    ]);
  });

  it('dead-letters what cannot be a row, with raw bytes, partition, sequence number and reason', async () => {
    const tracker = new SchemaTracker();
    const bad: [unknown, string][] = [
      [Buffer.from('not json {'), 'not-json'],
      [Buffer.from('[1,2]'), 'not-object'],
      [Buffer.from([0x7b, 0xff, 0x7d]), 'invalid-utf8'],
      [Buffer.from('{"s":"\\ud800"}'), 'invalid-string'],
      [{ big: 'x'.repeat(2000) }, 'too-large'],
      [{ _eh_offset: 1 }, 'field-name'],
      [{ ID: 1 }, 'field-name'],
      [Buffer.alloc(0), 'not-json'],
    ];
    const events = [
      ev(0, { id: 1 }),
      ...bad.map(([body], i) => ev(i + 1, body)),
      ev(100, { id: 2, multi: 'line' }),
    ];
    events[events.length - 1]!.body = Buffer.from('{\n  "id": 2,\r\n  "multi": "line"\n}');
    const { path, deadLetters, result } = await encode(tracker, [events], 1000);
    expect(result.rows).toBe(2);
    expect(result.deadLettered).toBe(bad.length);
    expect(deadLetters.map((d) => d.reason)).toEqual(bad.map(([, reason]) => reason));
    expect(deadLetters.map((d) => d.sequenceNumber)).toEqual(bad.map((_, i) => i + 1));
    expect(deadLetters[0]).toMatchObject({
      partitionId: '3',
      offset: '100',
      enqueuedTime: '2026-03-07T09:00:00.124Z',
    });
    for (const [i, d] of deadLetters.entries()) {
      expect(Buffer.from(d.bodyBase64, 'base64')).toEqual(events[i + 1]!.body);
      expect(d.detail.length).toBeGreaterThan(0);
    }
    expect(deadLetters[6]!.detail).toMatch(/"ID" differs only in case from "id"/);
    const rows = await readParquet([path], { select: 'id, multi, _eh_sequence_number' });
    expect(rows).toEqual([
      { id: '1', multi: null, _eh_sequence_number: '0' },
      { id: '2', multi: 'line', _eh_sequence_number: '100' },
    ]);
  });

  it('writes a valid empty file when every event is a dead letter', async () => {
    const { path, result } = await encode(new SchemaTracker(), [
      [ev(0, Buffer.from('x')), ev(1, Buffer.from('y'))],
    ]);
    expect(result).toMatchObject({ rows: 0, deadLettered: 2 });
    expect(await readParquet([path])).toEqual([]);
    expect(Object.keys(await parquetColumns(path))).toContain('_eh_sequence_number');
  });

  it('writes the same bytes for the same events and schema (a replay rewrites the file identically)', async () => {
    const events = Array.from({ length: 500 }, (_, i) => ev(i, { i, s: `v${i % 7}`, o: { x: i / 2 } }));
    const a = await encode(new SchemaTracker(), [events.slice(0, 200), events.slice(200)]);
    const b = await encode(new SchemaTracker(), [events.slice(0, 50), events.slice(50)]);
    expect(b.bytes.equals(a.bytes)).toBe(true);
    expect(await readdir(duck.engine.dir)).toEqual([]); // spill and output temp files removed
  });

  it('after a restart, files keep the stored widened types; a replayed file may be wider, same rows', async () => {
    const stateDir = join(duck.dir, 'state');
    const key = { topic: 't', fullyQualifiedNamespace: 'ns', eventHubName: 'hub', consumerGroup: '$Default' };
    const before = new SchemaTracker({ store: new FileSchemaStateStore(stateDir, key) });
    const f1 = await encode(before, [[ev(0, { id: 1, amount: 3 })]]);
    // Published (crash before its checkpoint) after the next file had already widened the schema:
    // the second file of the chain was planned and stored, then the agent died.
    const f2 = await encode(before, [[ev(1, { id: 2, amount: 2.5 })]]);
    before.close();
    expect(await parquetColumns(f1.path)).toMatchObject({ amount: 'BIGINT' });

    const after = new SchemaTracker({ store: new FileSchemaStateStore(stateDir, key) });
    const replay = await encode(after, [[ev(0, { id: 1, amount: 3 })]]);
    const f3 = await encode(after, [[ev(2, { id: 3, amount: 4 })]]);
    after.close();
    // The replay rewrites the same name with the same rows; only the column type is wider.
    expect(await parquetColumns(replay.path)).toMatchObject({ id: 'BIGINT', amount: 'DOUBLE' });
    expect(await parquetColumns(f3.path)).toMatchObject({ id: 'BIGINT', amount: 'DOUBLE' });
    const select = { select: 'id, amount::DOUBLE AS amount, _eh_sequence_number' };
    expect(await readParquet([replay.path], select)).toEqual(await readParquet([f1.path], select));
    expect(await readParquet([replay.path, f2.path, f3.path], select)).toEqual([
      { id: '1', amount: 3, _eh_sequence_number: '0' },
      { id: '2', amount: 2.5, _eh_sequence_number: '1' },
      { id: '3', amount: 4, _eh_sequence_number: '2' },
    ]);
    // With nothing new, a replay is byte for byte the first write.
    const again = new SchemaTracker({ store: new FileSchemaStateStore(stateDir, key) });
    expect((await encode(again, [[ev(0, { id: 1, amount: 3 })]])).bytes.equals(replay.bytes)).toBe(true);
    again.close();
  });
});

describe('Parquet files rewritten by a replay', () => {
  const events = [20, 21, 22].map((s) => ev(s, { id: s, name: `n${s}` }));
  const fileOf = async (tracker: SchemaTracker, batches: SourceEvent[][]) =>
    (await encode(tracker, batches)).bytes;

  it('are the same bytes for the same events and running schema, however the source batched them', async () => {
    const first = await fileOf(new SchemaTracker(), [events]);
    const again = await fileOf(new SchemaTracker(), [[events[0]!], events.slice(1)]);
    expect(again.equals(first)).toBe(true);
  });

  it('carry the running schema of the writer: a field seen only before the file makes a column of nulls, so they differ', async () => {
    // The live agent saw `extra` in an earlier file; a replay reading from this file on never did.
    const live = new SchemaTracker();
    await encode(live, [[ev(5, { id: 5, name: 'n5', extra: true })]]);
    const original = await encode(live, [events]);
    const rewritten = await encode(new SchemaTracker(), [events]);
    expect(Object.keys(await parquetColumns(original.path))).toContain('extra');
    expect(Object.keys(await parquetColumns(rewritten.path))).not.toContain('extra');
    expect(rewritten.bytes.equals(original.bytes)).toBe(false);
    // The same rows, so the same name and the same events: only the columns differ.
    const strip = (rows: Record<string, unknown>[]) => rows.map(({ extra: _, ...row }) => row);
    expect(strip(await readParquet([rewritten.path]))).toEqual(strip(await readParquet([original.path])));
  });
});
