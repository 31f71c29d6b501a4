import type { ContainerClient } from '@azure/storage-blob';
import avro from 'avsc';

const SYSTEM_VALUES = ['long', 'double', 'string', 'bytes'];

/** Event Hubs Capture's Avro schema, as Capture writes it (written out here, independent of the agent's). */
export const CAPTURE_SCHEMA = {
  type: 'record',
  name: 'EventData',
  namespace: 'Microsoft.ServiceBus.Messaging',
  fields: Object.entries({
    SequenceNumber: 'long',
    Offset: 'string',
    EnqueuedTimeUtc: 'string',
    SystemProperties: { type: 'map', values: SYSTEM_VALUES },
    Properties: { type: 'map', values: [...SYSTEM_VALUES, 'null'] },
    Body: ['null', 'bytes'],
  }).map(([name, type]) => ({ name, type })),
};

/** Capture-like records for sequence numbers `from..to` (offset = 100 × sequence). */
export function records(from: number, to: number, enqueued = '3/7/2026 9:05:02 AM') {
  return Array.from({ length: to - from + 1 }, (_, i) => ({
    SequenceNumber: from + i,
    Offset: String((from + i) * 100),
    EnqueuedTimeUtc: enqueued,
    SystemProperties: {},
    Properties: {},
    Body: Buffer.from(`{"n":${from + i}}`),
  }));
}

/** Longs as bigints, to write what no number can hold (Event Hubs never assigns such sequence numbers). */
const bigLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n: unknown) => typeof n === 'bigint' || Number.isInteger(n),
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/**
 * An Avro object container file of `rows` in `schema` (Capture's unless given), small blocks; a header
 * only when there are no rows, like Capture's files of empty windows. `bigLongs` writes longs from bigints.
 */
export function avroFile(
  rows: unknown[],
  schema: object = CAPTURE_SCHEMA,
  bigLongs = false,
): Promise<Buffer> {
  const type = avro.Type.forSchema(schema as avro.Schema, bigLongs ? { registry: { long: bigLong } } : {});
  const encoder = new avro.streams.BlockEncoder(type, {
    codec: 'deflate',
    blockSize: 256,
    writeHeader: 'always',
  });
  const chunks: Buffer[] = [];
  encoder.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    encoder.on('end', () => resolve(Buffer.concat(chunks)));
    encoder.on('error', reject);
  });
  for (const row of rows) encoder.write(row);
  encoder.end();
  return done;
}

/** `ns/hub/<partition>/yyyy/MM/dd/HH/mm/ss.avro` at `time`, Capture's default layout. */
export function captureName(partition: string, time: Date, ns = 'contoso', hub = 'orders'): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${ns}/${hub}/${partition}/${time.getUTCFullYear()}/${p(time.getUTCMonth() + 1)}/${p(time.getUTCDate())}/${p(time.getUTCHours())}/${p(time.getUTCMinutes())}/${p(time.getUTCSeconds())}.avro`;
}

export async function upload(container: ContainerClient, name: string, bytes: Buffer): Promise<void> {
  await container.getBlockBlobClient(name).uploadData(bytes);
}

/** A report's rows as `[partition, before, after, continuity]`, for comparing at a glance. */
export function continuityRows(report: {
  partitions: {
    partitionId: string;
    before: { sequenceNumber: number } | null;
    after: { sequenceNumber: number } | null;
    continuity: unknown;
  }[];
}) {
  return report.partitions.map((p) => [
    p.partitionId,
    p.before?.sequenceNumber,
    p.after?.sequenceNumber,
    p.continuity,
  ]);
}
