import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzzBody, nested, prng } from '../../test/json-fuzz.ts';
import { duckDbForTests, writeParquetSegment } from '../../test/parquet-segment.ts';
import { MAX_ROW_FIELDS, parseRow, refusedContent } from '../formats/parquet/parquet.ts';
import { SchemaTracker } from '../formats/parquet/schema-tracker.ts';
import type { SourceEvent } from './event.ts';
import { jsonShape, MAX_NESTING, readJson } from './json-check.ts';
import { RowError } from './json-schema.ts';

const reason = (text: string | Buffer) => {
  const result = readJson(Buffer.isBuffer(text) ? text : Buffer.from(text));
  return result instanceof RowError ? result.kind : 'ok';
};

describe('readJson: JSON that every reader accepts', () => {
  it('names what JSON.parse takes but the readers refuse', () => {
    expect(reason('{"a":1,"b":{"c":[1,{"d":2}]}}')).toBe('ok');
    expect(reason('{"a":1,"a":2}')).toBe('duplicate-key');
    expect(reason('{"a":{"x":1,"y":2,"x":3}}')).toBe('duplicate-key');
    expect(reason('[{"k":1},{"k":2}]')).toBe('ok'); // equal keys in different objects
    expect(reason('{"a":1,"\\u0061":2}')).toBe('duplicate-key'); // equal once unescaped
    expect(reason('{"a":"x\\":y","b":"\\\\"}')).toBe('ok'); // quotes, colons and backslashes in strings
    expect(reason('{"s":"\\ud800"}')).toBe('invalid-string');
    expect(reason('{"s":"\\udc00"}')).toBe('invalid-string');
    expect(reason('{"s":"\\ud83d\\ude00"}')).toBe('ok');
    expect(reason('\ufeff{"a":1}')).toBe('not-json');
    expect(reason('{"a":1}\u0000')).toBe('not-json');
    expect(reason(Buffer.from([0x7b, 0xff, 0x7d]))).toBe('invalid-utf8');
    expect(reason(nested(MAX_NESTING, 'object'))).toBe('ok');
    expect(reason(nested(MAX_NESTING + 1, 'object'))).toBe('too-deep');
    expect(reason(nested(100_000, 'array'))).toBe('too-deep');
  });

  it('measures depth and members without being fooled by strings', () => {
    expect(jsonShape('{"a":"{[:","b":[{"c":1}]}')).toEqual({ members: 3, depth: 3 });
    expect(jsonShape('"just a string"')).toEqual({ members: 0, depth: 0 });
    expect(jsonShape('{"a" \t\r\n: 1}')).toEqual({ members: 1, depth: 1 });
  });
});

describe('Parquet rows', () => {
  it('refuses an event with more top-level fields than a file can hold as columns', () => {
    const wide = (n: number) =>
      Buffer.from(JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))));
    expect(parseRow(wide(MAX_ROW_FIELDS), 1 << 20)).not.toBeInstanceOf(RowError);
    expect((parseRow(wide(MAX_ROW_FIELDS + 1), 1 << 20) as RowError).kind).toBe('too-wide');
  });

  it('isolates what DuckDB refuses in the rows, and retries what fails to run', () => {
    for (const message of [
      'Invalid Input Error: Malformed JSON',
      'Conversion Error: Could not convert',
      'Out of Memory Error: failed to pin block',
      'Binder Error: Referenced column',
    ]) {
      expect(refusedContent(new Error(message))).toBe(true);
    }
    for (const message of [
      'IO Error: No space left on device',
      'Permission Error: x',
      'DuckDB engine is closed',
    ]) {
      expect(refusedContent(new Error(message))).toBe(false);
    }
  });
});

describe('Parquet: every body the checks accept is written by DuckDB (differential fuzzing)', () => {
  const duck = duckDbForTests('hubcap-fuzz-');

  it('writes or dead-letters 1200 generated bodies; the writer refuses none of them', async () => {
    const rand = prng(20261127);
    const tracker = new SchemaTracker(); // one running schema: later files widen what earlier ones saw
    const t0 = Date.UTC(2026, 0, 1);
    let rows = 0;
    let deadLetters = 0;
    for (let segment = 0; segment < 6; segment++) {
      const events: SourceEvent[] = Array.from({ length: 200 }, (_, i) => {
        const seq = segment * 200 + i;
        const body = i % 97 === 0 ? nested(10 ** (1 + (i % 4)), i % 2 ? 'object' : 'array') : fuzzBody(rand);
        return { body, sequenceNumber: seq, offset: String(seq), enqueuedTimeUtc: new Date(t0 + seq) };
      });
      const out = await writeParquetSegment(
        { engine: duck.engine, tracker, maxBodyBytes: 1024 * 1024 },
        [events],
        join(duck.dir, `f${segment}.parquet`),
      );
      rows += out.result.rows;
      deadLetters += out.deadLetters.length;
    }
    expect(rows + deadLetters).toBe(1200);
    // The generator makes both kinds: the test would pass vacuously otherwise.
    expect(rows).toBeGreaterThan(300);
    expect(deadLetters).toBeGreaterThan(100);
  });
});
