import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { deadLetter, jsonProperties } from '../../pipeline/dead-letter.ts';
import { bodyBytes, eventProperties, type SourceEvent } from '../../pipeline/event.ts';
import { readJson } from '../../pipeline/json-check.ts';
import { newStruct, observeRow, quoteIdent, RowError, type StructType } from '../../pipeline/json-schema.ts';
import { type SegmentContext, UnwritableError } from '../format.ts';
import { type DuckDbEngine, sqlString } from './duckdb.ts';
import { type FilePlan, mergeRoot, type SchemaTracker } from './schema-tracker.ts';

/** Columns the agent adds to every row (Event Hubs metadata), after the event's own fields. */
export const META_COLUMNS = [
  '_eh_partition',
  '_eh_sequence_number',
  '_eh_offset',
  '_eh_enqueued_time',
  '_eh_partition_key',
  '_eh_properties',
] as const;
const RESERVED = new Set<string>(META_COLUMNS);

export type ParquetCompression = 'zstd' | 'snappy' | 'gzip' | 'none';

export interface ParquetOptions {
  engine: DuckDbEngine;
  tracker: SchemaTracker;
  compression: ParquetCompression;
  /** Bodies larger than this are dead letters. */
  maxBodyBytes: number;
  rowGroupSize?: number;
  /** Bodies that are not JSON (e.g. Avro via a schema registry); default: parse as JSON. */
  decoder?: BodyDecoder;
}

/** An event body decoded into a row by something other than JSON.parse. */
export interface DecodedRow {
  row: Record<string, unknown>;
  /** Column types the producer declared (e.g. the registered Avro schema), merged before the values. */
  schema?: StructType;
}

export interface BodyDecoder {
  /**
   * The event's row, or why it is a dead letter. Rejects only when no decision can be made (the
   * agent is stopping): an outage of what it depends on is waited out, never a dead letter.
   */
  decode(event: SourceEvent, body: Buffer): Promise<DecodedRow | RowError>;
}

const SPILL_CHUNK = 1024 * 1024;
/** Input bytes per row group (measured: 4–16 MiB costs half the CPU of 64 MiB, files 0.5 % larger). */
const ROW_GROUP_BYTES = 8 * 1024 * 1024;
const MAX_ROW_GROUP_ROWS = 122_880;
const OUTPUT_CHUNK = 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;

/** `{"_s":…,"_o":…,"_t":…,"_k":…[,"_a":…],"b":` — the row's metadata, before the body bytes. */
function rowPrefix(event: SourceEvent): string {
  const key = event.partitionKey == null ? 'null' : JSON.stringify(event.partitionKey.toWellFormed());
  let props = '';
  const properties = eventProperties(event);
  if (properties && Object.keys(properties).length > 0) {
    const map: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(jsonProperties(properties))) {
      map[k.toWellFormed()] =
        v === null ? null : typeof v === 'string' ? v.toWellFormed() : JSON.stringify(v).toWellFormed();
    }
    props = `,"_a":${JSON.stringify(map)}`;
  }
  return `{"_s":${event.sequenceNumber},"_o":${JSON.stringify(String(event.offset))},"_t":${event.enqueuedTimeUtc.getTime()},"_k":${key}${props},"b":`;
}

/**
 * Spilled rows are assembled in one buffer (no per-row allocations) and written to disk per MiB.
 * Each row is a line: the metadata prefix, the body's bytes (raw CR/LF, insignificant whitespace in
 * valid JSON, turned into spaces) and `}`.
 */
class SpillBuffer {
  #buffer = Buffer.allocUnsafe(SPILL_CHUNK);
  #at = 0;
  get length(): number {
    return this.#at;
  }
  append(prefix: string, body: Buffer): number {
    const need = Buffer.byteLength(prefix) + body.byteLength + 2;
    if (this.#at + need > this.#buffer.byteLength) {
      const grown = Buffer.allocUnsafe(Math.max(this.#buffer.byteLength * 2, this.#at + need));
      this.#buffer.copy(grown, 0, 0, this.#at);
      this.#buffer = grown;
    }
    const buffer = this.#buffer;
    let at = this.#at;
    at += buffer.write(prefix, at, 'utf8');
    const start = at;
    at += body.copy(buffer, at);
    if (body.indexOf(LF) !== -1 || body.indexOf(CR) !== -1) {
      for (let i = start; i < at; i++) if (buffer[i] === LF || buffer[i] === CR) buffer[i] = SPACE;
    }
    buffer[at++] = 0x7d; // }
    buffer[at++] = LF;
    this.#at = at;
    return need;
  }
  /** The bytes so far; the buffer is not reused afterwards (it may still be being written). */
  take(): Buffer {
    const out = this.#buffer.subarray(0, this.#at);
    this.#buffer = Buffer.allocUnsafe(SPILL_CHUNK);
    this.#at = 0;
    return out;
  }
}

/**
 * Top-level fields (columns) one event may bring. DuckDB's Parquet writer holds buffers per column:
 * at its default 256 MB a file of 1 000 columns runs out of memory, 500 fits (measured).
 */
export const MAX_ROW_FIELDS = 400;

/** Parses and checks one body; returns it parsed, or the reason it cannot be a row. */
export function parseRow(body: Buffer, maxBodyBytes: number): Record<string, unknown> | RowError {
  if (body.byteLength > maxBodyBytes) {
    return new RowError('too-large', `body of ${body.byteLength} bytes exceeds the limit of ${maxBodyBytes}`);
  }
  const json = readJson(body);
  if (json instanceof RowError) return json;
  const { value } = json;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return new RowError(
      'not-object',
      `body is JSON but not an object (${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value})`,
    );
  }
  let fields = 0;
  for (const _ in value) fields++;
  if (fields > MAX_ROW_FIELDS) {
    return new RowError(
      'too-wide',
      `body has ${fields} top-level fields; at most ${MAX_ROW_FIELDS} are columns`,
    );
  }
  return value as Record<string, unknown>;
}

/**
 * JSON events in, one Parquet file out.
 *
 * A Parquet file is only complete with its footer, so rows cannot be uploaded as they arrive. Instead
 * each accepted body is appended, byte for byte with its metadata, to a spill file on local disk
 * (memory stays bounded whatever the segment size), while its fields are merged into the file's schema.
 * When the segment ends, the topic's schema is widened with the file's (SchemaTracker), DuckDB turns the
 * spill file into Parquet with those explicit columns (COPY … TO, zstd), and the file is streamed to
 * the sink in 1 MiB chunks. Events that cannot be rows go to the segment's dead letters instead.
 */
export class ParquetEncoder extends Duplex {
  readonly #o: ParquetOptions;
  readonly #ctx: SegmentContext;
  #schema: StructType = newStruct();
  /** Declared schemas already merged into this file's schema. */
  readonly #seeded = new Set<StructType>();
  readonly #spillPath: string;
  readonly #outPath: string;
  #spill: FileHandle | null = null;
  readonly #pending = new SpillBuffer();
  #spilledBytes = 0;
  #maxLine = 0;
  #out: FileHandle | null = null;
  #wantRead = false;
  #reading = false;

  constructor(options: ParquetOptions, ctx: SegmentContext) {
    super({ writableObjectMode: true, writableHighWaterMark: 2, readableHighWaterMark: OUTPUT_CHUNK });
    this.#o = options;
    this.#ctx = ctx;
    const stem = join(options.engine.dir, `${ctx.partitionId}-${randomBytes(6).toString('hex')}`);
    this.#spillPath = `${stem}.ndjson`;
    this.#outPath = `${stem}.parquet`;
  }

  override _construct(done: (error?: Error | null) => void): void {
    open(this.#spillPath, 'w').then((handle) => {
      this.#spill = handle;
      done();
    }, done);
  }

  override _write(
    events: readonly SourceEvent[],
    _: BufferEncoding,
    done: (error?: Error | null) => void,
  ): void {
    if (this.#o.decoder) {
      this.#writeDecoded(this.#o.decoder, events).then(() => done(), done);
      return;
    }
    const waits: Promise<void>[] = [];
    for (const event of events) {
      const body = bodyBytes(event.body);
      let row = parseRow(body, this.#o.maxBodyBytes);
      if (!(row instanceof RowError)) row = this.#observe(row);
      const wait = this.#accept(event, row, row instanceof RowError ? undefined : body);
      if (wait) waits.push(wait);
    }
    const spilled = this.#pending.length >= SPILL_CHUNK ? this.#flushSpill() : Promise.resolve();
    Promise.all([spilled, ...waits]).then(() => done(), done);
  }

  /** Decoded bodies (in order: the schema's field order depends on it) are spilled as their JSON. */
  async #writeDecoded(decoder: BodyDecoder, events: readonly SourceEvent[]): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const event of events) {
      const body = bodyBytes(event.body);
      let row: Record<string, unknown> | RowError;
      let json: Buffer | undefined;
      if (body.byteLength > this.#o.maxBodyBytes) {
        row = new RowError(
          'too-large',
          `body of ${body.byteLength} bytes exceeds the limit of ${this.#o.maxBodyBytes}`,
        );
      } else {
        const decoded = await decoder.decode(event, body);
        if (decoded instanceof RowError) row = decoded;
        else {
          // Decoded strings come from UTF-8 bytes: no lone surrogates to check for.
          json = Buffer.from(JSON.stringify(decoded.row));
          if (decoded.schema && !this.#seeded.has(decoded.schema)) {
            this.#seeded.add(decoded.schema);
            this.#schema = mergeRoot(this.#schema, decoded.schema);
          }
          row = this.#observe(decoded.row);
        }
      }
      const wait = this.#accept(event, row, json);
      if (wait) waits.push(wait);
    }
    if (this.#pending.length >= SPILL_CHUNK) await this.#flushSpill();
    await Promise.all(waits);
  }

  #observe(row: Record<string, unknown>): Record<string, unknown> | RowError {
    try {
      observeRow(this.#schema, row, RESERVED);
      return row;
    } catch (error) {
      return error instanceof RowError
        ? error
        : new RowError('not-json', `body cannot be read: ${(error as Error).message}`);
    }
  }

  /** Spills a row (its JSON text) or sends the event to the dead letters; a promise means "wait". */
  #accept(
    event: SourceEvent,
    row: Record<string, unknown> | RowError,
    json: Buffer | undefined,
  ): Promise<void> | undefined {
    const result = this.#ctx.result;
    if (row instanceof RowError || json === undefined) {
      return deadLetter(this.#ctx, event, row instanceof RowError ? row : new RowError('not-json', 'no row'));
    }
    const line = this.#pending.append(rowPrefix(event), json);
    if (line > this.#maxLine) this.#maxLine = line;
    result.rows++;
    return undefined;
  }

  async #flushSpill(): Promise<void> {
    if (this.#pending.length === 0) return;
    const chunk = this.#pending.take();
    this.#spilledBytes += chunk.byteLength;
    await this.#spill!.write(chunk);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#finish().then(() => {
      done();
      if (this.#wantRead) this.#pump();
    }, done);
  }

  async #finish(): Promise<void> {
    await this.#flushSpill();
    const spill = this.#spill!;
    this.#spill = null;
    await spill.close();
    const plan = await this.#o.tracker.plan(this.#schema);
    this.#ctx.result.schema = plan.version;
    // Row groups of ~ROW_GROUP_BYTES of input: DuckDB holds one row group in memory while writing it.
    const rowBytes = this.#spilledBytes / Math.max(1, this.#ctx.result.rows);
    const rowGroupSize =
      this.#o.rowGroupSize ??
      Math.max(16, Math.min(MAX_ROW_GROUP_ROWS, Math.floor(ROW_GROUP_BYTES / Math.max(1, rowBytes))));
    try {
      await this.#o.engine.run(
        copySql(this.#spillPath, this.#outPath, this.#ctx.partitionId, plan, this.#maxLine, {
          compression: this.#o.compression,
          rowGroupSize,
        }),
      );
    } catch (error) {
      if (!refusedContent(error as Error)) throw error;
      // Without the temporary file's name, a replayed dead letter is written byte for byte again.
      const message = (error as Error).message.replaceAll(this.#spillPath, 'the segment');
      throw new UnwritableError(message, { cause: error });
    }
    await rm(this.#spillPath, { force: true });
    this.#out = await open(this.#outPath, 'r');
  }

  override _read(): void {
    if (!this.#out) {
      this.#wantRead = true;
      return;
    }
    this.#pump();
  }

  #pump(): void {
    if (this.#reading || !this.#out) return;
    this.#reading = true;
    const out = this.#out;
    const chunk = Buffer.allocUnsafe(OUTPUT_CHUNK);
    out.read(chunk, 0, OUTPUT_CHUNK, null).then(
      ({ bytesRead }) => {
        this.#reading = false;
        if (bytesRead === 0) {
          this.#out = null;
          out.close().then(
            () => rm(this.#outPath, { force: true }).then(() => this.push(null)),
            (error: Error) => this.destroy(error),
          );
          return;
        }
        if (this.push(chunk.subarray(0, bytesRead))) this.#pump();
      },
      (error: Error) => this.destroy(error),
    );
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    const handles = [this.#spill, this.#out];
    this.#spill = null;
    this.#out = null;
    Promise.allSettled(handles.map((h) => h?.close()))
      .then(() =>
        Promise.allSettled([rm(this.#spillPath, { force: true }), rm(this.#outPath, { force: true })]),
      )
      .then(
        () => done(error),
        () => done(error),
      );
  }
}

/**
 * Whether DuckDB refused the rows themselves (malformed input, a value that does not convert, a name
 * it cannot bind, a file too wide for its memory) rather than failing to run (disk, permissions, a
 * closed engine): only the former is isolated and dead-lettered; splitting a file also needs less
 * memory. Anything not named here is an outage, retried.
 */
export function refusedContent(error: Error): boolean {
  return /^(Invalid Input|Conversion|Out of Range|Binder|Parser|Out of Memory|Not implemented) Error/.test(
    error.message,
  );
}

const DUCKDB_COMPRESSION: Record<ParquetCompression, string> = {
  zstd: 'zstd',
  snappy: 'snappy',
  gzip: 'gzip',
  none: 'uncompressed',
};

/** The COPY statement for one file: explicit columns, body fields first, then the metadata columns. */
export function copySql(
  spillPath: string,
  outPath: string,
  partitionId: string,
  plan: FilePlan,
  maxLine: number,
  options: Pick<ParquetOptions, 'compression' | 'rowGroupSize'>,
): string {
  const bodyFields: string[] = [];
  const select: string[] = [];
  for (const column of plan.columns) {
    if (column.source === null) {
      select.push(`NULL::${column.type} AS ${quoteIdent(column.name)}`);
    } else {
      bodyFields.push(`${quoteIdent(column.source)} ${column.type}`);
      select.push(`b.${quoteIdent(column.source)} AS ${quoteIdent(column.name)}`);
    }
  }
  const columns = [
    `'_s': 'BIGINT'`,
    `'_o': 'VARCHAR'`,
    `'_t': 'BIGINT'`,
    `'_k': 'VARCHAR'`,
    `'_a': 'MAP(VARCHAR, VARCHAR)'`,
  ];
  if (bodyFields.length > 0) columns.push(`'b': ${sqlString(`STRUCT(${bodyFields.join(', ')})`)}`);
  select.push(
    `${sqlString(partitionId)} AS _eh_partition`,
    '_s AS _eh_sequence_number',
    '_o AS _eh_offset',
    'make_timestamptz(_t * 1000) AS _eh_enqueued_time',
    '_k AS _eh_partition_key',
    '_a AS _eh_properties',
  );
  const read = `read_json(${sqlString(spillPath)}, format = 'newline_delimited', records = true, columns = {${columns.join(', ')}}, maximum_object_size = ${Math.max(16 * 1024 * 1024, maxLine + 1024)})`;
  return `COPY (SELECT ${select.join(', ')} FROM ${read}) TO ${sqlString(outPath)} (FORMAT parquet, COMPRESSION ${DUCKDB_COMPRESSION[options.compression]}, ROW_GROUP_SIZE ${options.rowGroupSize ?? 65_536})`;
}
