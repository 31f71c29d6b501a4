import type { Readable } from 'node:stream';
import avro from 'avsc';

/** One of Capture's records, as much of it as a cutover needs. */
export interface CaptureEvent {
  sequenceNumber: number;
  offset: string;
  /** As Capture wrote it (e.g. `3/7/2026 9:05:02 AM`). */
  enqueuedTimeUtc: string;
}

export interface CaptureFileSummary {
  /** Records read (all of them, or 1 when only the first was wanted). */
  records: number;
  first: CaptureEvent | null;
  last: CaptureEvent | null;
}

/** A file that is not one of Capture's, or cannot be read to its end. */
export class CaptureFileError extends Error {
  readonly file: string;

  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'CaptureFileError';
    this.file = file;
  }
}

const REQUIRED = { SequenceNumber: 'long', Offset: 'string', EnqueuedTimeUtc: 'string' } as const;

/** Why a writer schema is not Capture's `EventData`, or null when it is. */
function schemaProblem(type: avro.Type): string | null {
  if (!(type instanceof avro.types.RecordType))
    return `is not Event Hubs Capture's schema (a ${type.typeName}, not the EventData record)`;
  const missing = Object.entries(REQUIRED).filter(
    ([name, typeName]) => type.field(name)?.type.typeName !== typeName,
  );
  return missing.length === 0
    ? null
    : `is not Event Hubs Capture's schema (${missing.map(([n, t]) => `${n}: ${t}`).join(', ')} missing)`;
}

function event(type: avro.Type, raw: Buffer, file: string): CaptureEvent {
  let record: { SequenceNumber: number; Offset: string; EnqueuedTimeUtc: string };
  try {
    record = type.fromBuffer(raw);
  } catch (error) {
    const message = (error as Error).message;
    // avsc refuses longs it cannot hold in a number; Event Hubs never hands out such sequence numbers.
    throw new CaptureFileError(
      file,
      message.includes('precision')
        ? 'claims a sequence number past 2^53, which Event Hubs never assigns'
        : `has a record that cannot be read (${message})`,
    );
  }
  if (!Number.isSafeInteger(record.SequenceNumber) || record.SequenceNumber < 0)
    throw new CaptureFileError(
      file,
      `claims sequence number ${record.SequenceNumber}, which Event Hubs never assigns`,
    );
  // The SDK resumes after a checkpoint's offset: without a usable one, no checkpoint can be written.
  if (!/^[\x21-\x7e]{1,256}$/.test(record.Offset))
    throw new CaptureFileError(
      file,
      `has a record (sequence number ${record.SequenceNumber}) without a usable Offset`,
    );
  return {
    sequenceNumber: record.SequenceNumber,
    offset: record.Offset,
    enqueuedTimeUtc: record.EnqueuedTimeUtc,
  };
}

/**
 * Reads a Capture Avro file as a stream, keeping only its first and last record: a file of any size
 * costs one block of memory. With `firstOnly` it stops after the first record. Empty files (Capture
 * writes one for a window without events) give `records: 0`. Anything else unreadable throws a
 * CaptureFileError naming `file`: not Avro, not Capture's schema, corrupt or truncated.
 */
export function readCaptureFile(
  source: Readable,
  file: string,
  options: { firstOnly?: boolean } = {},
): Promise<CaptureFileSummary> {
  return new Promise((resolve, reject) => {
    const decoder = new avro.streams.BlockDecoder({ noDecode: true });
    let type: avro.Type | null = null;
    let firstRaw: Buffer | null = null;
    let lastRaw: Buffer | null = null;
    let records = 0;
    let settled = false;
    const fail = (error: unknown, fileFault = true) => {
      if (settled) return;
      settled = true;
      source.destroy();
      decoder.destroy();
      reject(
        error instanceof CaptureFileError || !fileFault
          ? error
          : new CaptureFileError(file, `is not a readable Avro file (${(error as Error).message})`),
      );
    };
    const finish = () => {
      if (settled) return;
      try {
        const summary = {
          records,
          first: type && firstRaw ? event(type, firstRaw, file) : null,
          last: type && lastRaw ? event(type, lastRaw, file) : null,
        };
        settled = true;
        resolve(summary);
      } catch (error) {
        fail(error);
      }
    };
    // A whole file ends with its sync marker (after the header or a block); the decoder itself ends
    // quietly when a file stops mid-block.
    let sync: Buffer | null = null;
    let tail = Buffer.alloc(0);
    source.on('data', (chunk: Buffer) => {
      tail = Buffer.concat([tail, chunk.subarray(-16)]).subarray(-16);
    });
    // Storage failing mid-file is not the file's fault: passed on as it is.
    source.on('error', (error) => fail(error, false));
    decoder.on('error', fail);
    decoder.on('metadata', (writerType: avro.Type, _codec: string, header: { sync: Buffer }) => {
      const problem = schemaProblem(writerType);
      if (problem) return fail(new CaptureFileError(file, problem));
      type = writerType;
      sync = header.sync;
    });
    decoder.on('data', (raw: Buffer) => {
      records++;
      firstRaw ??= raw;
      lastRaw = raw;
      if (options.firstOnly) {
        source.unpipe(decoder);
        source.destroy();
        decoder.destroy();
        finish();
      }
    });
    decoder.on('end', () => {
      if (type === null || sync === null)
        return fail(new CaptureFileError(file, 'is empty or has no whole Avro header'));
      if (!tail.equals(sync))
        return fail(new CaptureFileError(file, 'is truncated: it stops inside a block'));
      finish();
    });
    source.pipe(decoder);
  });
}
