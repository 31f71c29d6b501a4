import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import { deflateRaw } from 'node:zlib';
import avro from 'avsc';
import { deadLetter } from '../../pipeline/dead-letter.ts';
import { bodyBytes, eventProperties, type SourceEvent } from '../../pipeline/event.ts';
import { RowError } from '../../pipeline/json-schema.ts';
import type { SegmentContext } from '../format.ts';

/**
 * Avro in Event Hubs Capture's own schema (record `EventData`, namespace
 * `Microsoft.ServiceBus.Messaging`), so readers written for Capture files keep working.
 */
export const CAPTURE_SCHEMA = {
  type: 'record',
  name: 'EventData',
  namespace: 'Microsoft.ServiceBus.Messaging',
  fields: [
    { name: 'SequenceNumber', type: 'long' },
    { name: 'Offset', type: 'string' },
    { name: 'EnqueuedTimeUtc', type: 'string' },
    { name: 'SystemProperties', type: { type: 'map', values: ['long', 'double', 'string', 'bytes'] } },
    { name: 'Properties', type: { type: 'map', values: ['long', 'double', 'string', 'bytes', 'null'] } },
    { name: 'Body', type: ['null', 'bytes'] },
  ],
} as const;

export const captureType = avro.Type.forSchema(CAPTURE_SCHEMA as unknown as avro.Schema, {
  wrapUnions: true,
});

type Wrapped = { long: number } | { double: number } | { string: string } | { bytes: Buffer };

/**
 * Capture writes EnqueuedTimeUtc with .NET's invariant-culture default DateTime format,
 * e.g. `3/7/2026 9:05:02 AM` (M/d/yyyy h:mm:ss tt, UTC, whole seconds).
 */
export function captureTimeString(time: Date): string {
  const h = time.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const mm = String(time.getUTCMinutes()).padStart(2, '0');
  const ss = String(time.getUTCSeconds()).padStart(2, '0');
  return `${time.getUTCMonth() + 1}/${time.getUTCDate()}/${time.getUTCFullYear()} ${h12}:${mm}:${ss} ${h < 12 ? 'AM' : 'PM'}`;
}

function wrap(value: unknown): Wrapped | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) ? { long: value } : { double: value };
  }
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? { long: Number(value) }
      : { string: value.toString() };
  }
  if (typeof value === 'string') return { string: value };
  if (Buffer.isBuffer(value)) return { bytes: value };
  if (value instanceof Uint8Array) return { bytes: Buffer.from(value) };
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : { long: value.getTime() };
  if (typeof value === 'boolean') return { string: String(value) };
  return { string: JSON.stringify(value) };
}

function wrapMap(values: Record<string, unknown> | undefined, allowNull: boolean) {
  const out: Record<string, Wrapped | null> = {};
  if (!values) return out;
  for (const [key, value] of Object.entries(values)) {
    const wrapped = wrap(value);
    if (wrapped !== null) out[key] = wrapped;
    else if (allowNull) out[key] = null;
  }
  return out;
}

/** The Capture record for one event. */
export function captureRecord(event: SourceEvent) {
  const system = wrapMap(event.systemProperties, false);
  if (event.partitionKey) system['x-opt-partition-key'] = { string: event.partitionKey };
  return {
    SequenceNumber: event.sequenceNumber,
    Offset: event.offset,
    EnqueuedTimeUtc: captureTimeString(event.enqueuedTimeUtc),
    SystemProperties: system,
    Properties: wrapMap(eventProperties(event), true),
    Body: event.body === undefined || event.body === null ? null : { bytes: bodyBytes(event.body) },
  };
}

const longType = avro.Type.forSchema('long');
const metadataType = avro.Type.forSchema({ type: 'map', values: 'bytes' });
const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
const deflateRawAsync = promisify(deflateRaw);

export interface AvroContainerOptions {
  codec: 'deflate' | 'null';
  /** Uncompressed bytes per Avro block. */
  blockBytes?: number;
  deflateLevel?: number;
}

/**
 * An Avro object container file writer: batches of events in, file bytes out. Blocks are deflated
 * on libuv's thread pool (zlib async), so compression overlaps with receiving.
 */
export class AvroContainerEncoder extends Transform {
  readonly #codec: 'deflate' | 'null';
  readonly #blockBytes: number;
  readonly #level: number;
  #sync = Buffer.alloc(16);
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #headerWritten = false;

  readonly #ctx: SegmentContext | undefined;

  /** With `ctx`, an event whose record cannot be encoded becomes a dead letter instead of failing the file. */
  constructor(options: AvroContainerOptions, ctx?: SegmentContext) {
    super({ writableObjectMode: true, writableHighWaterMark: 2 });
    this.#ctx = ctx;
    this.#codec = options.codec;
    this.#blockBytes = options.blockBytes ?? 1024 * 1024;
    this.#level = options.deflateLevel ?? 6;
  }

  /**
   * The sync marker is derived from the file's first event instead of drawn at random, so a replay
   * that rewrites the file (the same first event, the same events) writes the same bytes. Avro asks
   * only that the marker is unlikely inside the data: a hash over the event's sequence number, the
   * service's enqueued time (to the millisecond, unknown to a sender in advance) and its body is.
   */
  #header(first: SourceEvent | undefined): Buffer {
    this.#headerWritten = true;
    if (first) {
      this.#sync = createHash('md5')
        .update(`${first.sequenceNumber}\0${first.enqueuedTimeUtc.getTime()}\0`)
        .update(first.body === undefined || first.body === null ? Buffer.alloc(0) : bodyBytes(first.body))
        .digest();
    }
    const metadata = metadataType.toBuffer({
      'avro.schema': Buffer.from(JSON.stringify(CAPTURE_SCHEMA)),
      'avro.codec': Buffer.from(this.#codec),
    });
    return Buffer.concat([MAGIC, metadata, this.#sync]);
  }

  async #emitBlock(): Promise<void> {
    const count = this.#pending.length;
    if (count === 0) return;
    const raw = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    const data = this.#codec === 'deflate' ? await deflateRawAsync(raw, { level: this.#level }) : raw;
    this.push(
      Buffer.concat([longType.toBuffer(count), longType.toBuffer(data.byteLength), data, this.#sync]),
    );
  }

  override _transform(events: readonly SourceEvent[], _: BufferEncoding, done: TransformCallback): void {
    if (!this.#headerWritten) this.push(this.#header(events[0]));
    this.#append(events).then(() => done(), done);
  }

  /**
   * A block ends after the event that fills it, wherever the batches the source delivered begin and
   * end: a replay reads other batches than the live agent did, and must cut the same blocks.
   */
  async #append(events: readonly SourceEvent[]): Promise<void> {
    for (const event of events) {
      let record: Buffer;
      try {
        record = captureType.toBuffer(captureRecord(event));
      } catch (error) {
        if (!this.#ctx) throw error;
        await deadLetter(this.#ctx, event, new RowError('unwritable', (error as Error).message));
        continue;
      }
      this.#pending.push(record);
      this.#pendingBytes += record.byteLength;
      if (this.#pendingBytes >= this.#blockBytes) await this.#emitBlock();
    }
  }

  override _flush(done: TransformCallback): void {
    if (!this.#headerWritten) this.push(this.#header(undefined));
    this.#emitBlock().then(() => done(), done);
  }
}
