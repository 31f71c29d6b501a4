import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import avro from 'avsc';

/** Decodes one file written by the agent into its records (NDJSON lines as strings, Avro records). */
export function decodeNdjson(name: string, bytes: Buffer): string[] {
  let raw = bytes;
  if (name.endsWith('.gz')) raw = gunzipSync(bytes);
  else if (name.endsWith('.zst')) raw = zstdDecompressSync(bytes);
  const text = raw.toString('utf8');
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new Error(`${name}: last line is not terminated`);
  return text.slice(0, -1).split('\n');
}

export interface CaptureRecord {
  SequenceNumber: number;
  Offset: string;
  EnqueuedTimeUtc: string;
  SystemProperties: Record<string, Record<string, unknown>>;
  Properties: Record<string, Record<string, unknown> | null>;
  Body: { bytes: Buffer } | null;
}

/** Decodes an Avro container with avsc's own reader (an independent implementation of the format). */
export async function decodeAvro(
  bytes: Buffer,
): Promise<{ records: CaptureRecord[]; codec: string; schema: unknown }> {
  const records: CaptureRecord[] = [];
  let codec = '';
  let schema: unknown;
  const decoder = new avro.streams.BlockDecoder({
    parseHook: (s: unknown) => avro.Type.forSchema(s as avro.Schema, { wrapUnions: true }),
  });
  decoder.on('metadata', (_type: unknown, c: string, header: { meta: Record<string, Buffer> }) => {
    codec = c;
    schema = JSON.parse(header.meta['avro.schema']!.toString());
  });
  decoder.on('data', (record: CaptureRecord) => records.push(record));
  const done = new Promise<void>((resolve, reject) => {
    decoder.on('end', resolve);
    decoder.on('error', reject);
  });
  Readable.from([bytes]).pipe(decoder);
  await done;
  return { records, codec, schema };
}

/** Event bodies of a decoded file, as strings (for Parquet: the `id` column, as `{"id":…}`). */
export async function decodeBodies(name: string, bytes: Buffer): Promise<string[]> {
  if (name.endsWith('.parquet')) {
    const dir = await mkdtemp(join(tmpdir(), 'hubcap-read-'));
    try {
      const path = join(dir, 'f.parquet');
      await writeFile(path, bytes);
      const rows = await readParquet([path], { select: 'id', orderBy: '_eh_sequence_number' });
      return rows.map((r) => JSON.stringify({ id: r.id }));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (name.endsWith('.avro')) {
    const { records } = await decodeAvro(bytes);
    return records.map((r) => r.Body?.bytes.toString('utf8') ?? '');
  }
  return decodeNdjson(name, bytes);
}

/** Runs one query on a fresh in-memory DuckDB (an independent reader of every format it knows). */
export async function duckQuery(sql: string): Promise<Record<string, unknown>[]> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const sqlList = (paths: readonly string[]) => paths.map((p) => `'${p.replaceAll("'", "''")}'`).join(', ');

/** Reads Parquet files back with DuckDB (an independent reader), all files together by column name. */
export function readParquet(
  paths: readonly string[],
  options: { orderBy?: string; select?: string } = {},
): Promise<Record<string, unknown>[]> {
  return duckQuery(
    `SELECT ${options.select ?? '*'} FROM read_parquet([${sqlList(paths)}], union_by_name = true) ORDER BY ${options.orderBy ?? '_eh_partition, _eh_sequence_number'}`,
  );
}

/** Column names and DuckDB types of one Parquet file. */
export async function parquetColumns(path: string): Promise<Record<string, string>> {
  const rows = await duckQuery(`DESCRIBE SELECT * FROM read_parquet(${sqlList([path])})`);
  return Object.fromEntries(rows.map((row) => [String(row.column_name), String(row.column_type)]));
}

/**
 * Reads NDJSON files (plain, .gz or .zst) with DuckDB's JSON-lines reader, strictly (no
 * `ignore_errors`): a line it cannot read fails the whole read, as it would for a user. One row per
 * line, each line's value as JSON text.
 */
export function readJsonLines(paths: readonly string[]): Promise<Record<string, unknown>[]> {
  return duckQuery(
    `SELECT json FROM read_json([${sqlList(paths)}], format = 'newline_delimited', records = false, columns = {json: 'JSON'})`,
  );
}

/**
 * Decodes an Avro container with Apache Avro's own JavaScript reader (`avro-js`), a reader this
 * project never writes with.
 */
export async function decodeAvroWithApacheReader(
  path: string,
): Promise<{ records: Record<string, unknown>[]; schema: unknown }> {
  const files = createRequire(import.meta.url)('avro-js/lib/files.js') as {
    createFileDecoder(path: string): Readable;
  };
  const decoder = files.createFileDecoder(path);
  let schema: unknown;
  decoder.on('metadata', (_type: unknown, _codec: string, header: { meta: Record<string, Buffer> }) => {
    schema = JSON.parse(header.meta['avro.schema']!.toString());
  });
  const records = (await decoder.toArray()) as Record<string, unknown>[];
  return { records, schema };
}
