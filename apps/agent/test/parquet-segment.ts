import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll } from 'vitest';
import { newSegmentResult, type SegmentResult } from '../src/formats/format.ts';
import { createFileFormat, type FormatOptions } from '../src/formats/index.ts';
import { DuckDbEngine } from '../src/formats/parquet/duckdb.ts';
import type { DeadLetterRecord } from '../src/pipeline/dead-letter.ts';
import type { SourceEvent } from '../src/pipeline/event.ts';

/**
 * One segment through the agent's Parquet format streams (zstd), the file written to `path` to be
 * read back; dead letters are returned parsed instead of going to a sink.
 */
export async function writeParquetSegment(
  parquet: NonNullable<FormatOptions['parquet']>,
  batches: SourceEvent[][],
  path: string,
  partitionId = '0',
): Promise<{ bytes: Buffer; deadLetters: DeadLetterRecord[]; result: SegmentResult }> {
  const format = createFileFormat({ type: 'parquet', compression: 'zstd' }, { parquet });
  const lines: Buffer[] = [];
  const ctx = {
    partitionId,
    deadLetter: (line: Buffer) => {
      lines.push(line);
      return undefined;
    },
    result: newSegmentResult(),
  };
  const out = new PassThrough();
  const collected = buffer(out);
  collected.catch(() => {}); // a failed pipeline rejects both; the pipeline's error is the one to see
  await pipeline([Readable.from(batches, { objectMode: true }), ...format.createStreams(ctx), out]);
  const bytes = await collected;
  await writeFile(path, bytes);
  const deadLetters = lines.map((l) => JSON.parse(l.toString()) as DeadLetterRecord);
  return { bytes, deadLetters, result: ctx.result };
}

/**
 * A DuckDB engine spilling to a fresh temporary folder, for the tests of one file or describe block
 * (set up before them; closed and removed after them).
 */
export function duckDbForTests(prefix: string): { dir: string; engine: DuckDbEngine } {
  const fixture = {} as { dir: string; engine: DuckDbEngine };
  beforeAll(async () => {
    fixture.dir = await mkdtemp(join(tmpdir(), prefix));
    fixture.engine = await DuckDbEngine.create({ spillDir: join(fixture.dir, 'spill') });
  });
  afterAll(async () => {
    fixture.engine?.close();
    await rm(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}
