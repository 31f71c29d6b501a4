import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PATH_PRESETS } from '@hubcap/shared';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPTURE_SCHEMA } from '../src/formats/avro/avro.ts';
import { createFileFormat } from '../src/formats/index.ts';
import { PartitionWriter } from '../src/ingest/partition-writer.ts';
import type { SourceEvent } from '../src/pipeline/event.ts';
import { newPartitionStats } from '../src/runtime/status.ts';
import { LocalFolderSink } from '../src/sink/local-folder-sink.ts';
import { decodeAvroWithApacheReader, duckQuery } from './read-back.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hubcap-capture-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("Avro with the Capture preset: Capture's layout and schema, exactly", () => {
  it('files sit where a glob written for Capture finds them, and Apache Avro reads them as Capture records', async () => {
    const format = createFileFormat({ type: 'avro', codec: 'deflate' });
    const base = Date.UTC(2026, 2, 7, 9, 5, 2, 123);
    // Three seconds, two partitions; a file per 4 events.
    const events = (partition: number): SourceEvent[] =>
      Array.from({ length: 12 }, (_, i) => ({
        body: Buffer.from(JSON.stringify({ partition, i })),
        sequenceNumber: 100 + i,
        offset: String(4096 * i),
        enqueuedTimeUtc: new Date(base + i * 250),
        partitionKey: i % 2 ? 'key' : null,
      }));
    for (const partition of [0, 1]) {
      const writer = new PartitionWriter({
        partitionId: String(partition),
        layout: {
          prefix: '',
          template: PATH_PRESETS.capture,
          namespace: 'contoso',
          hub: 'orders',
          topic: 'orders',
          extension: format.extension,
        },
        format,
        limits: { maxBytes: 1 << 20, maxEvents: 4, maxAgeMs: 60_000, boundary: 'hour' },
        sink: new LocalFolderSink(root),
        log: pino({ level: 'silent' }),
        stats: newPartitionStats(),
        checkpoint: async () => {},
      });
      await writer.write(events(partition));
      await writer.drain();
    }

    const written = (await readdir(root, { recursive: true }))
      .filter((f) => f.endsWith('.avro'))
      .map((f) => join(root, f))
      .sort();
    expect(written.map((f) => f.slice(root.length + 1))).toEqual([
      'contoso/orders/0/2026/03/07/09/05/02-0-00000000000000000100-00000000000000000103.avro',
      'contoso/orders/0/2026/03/07/09/05/03-0-00000000000000000104-00000000000000000107.avro',
      'contoso/orders/0/2026/03/07/09/05/04-0-00000000000000000108-00000000000000000111.avro',
      'contoso/orders/1/2026/03/07/09/05/02-1-00000000000000000100-00000000000000000103.avro',
      'contoso/orders/1/2026/03/07/09/05/03-1-00000000000000000104-00000000000000000107.avro',
      'contoso/orders/1/2026/03/07/09/05/04-1-00000000000000000108-00000000000000000111.avro',
    ]);
    // Capture's documented layout {Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}.avro,
    // as Autoloader and Spark globs write it, expanded by an independent glob implementation (DuckDB's).
    const globbed = await duckQuery(
      `SELECT file FROM glob('${root}/contoso/orders/*/*/*/*/*/*/*.avro') ORDER BY file`,
    );
    expect(globbed.map((r) => r.file)).toEqual(written);
    const hourly = await duckQuery(
      `SELECT file FROM glob('${root}/contoso/orders/0/2026/03/07/09/*/*.avro')`,
    );
    expect(hourly).toHaveLength(3);

    const { records, schema } = await decodeAvroWithApacheReader(written[0]!);
    expect(schema).toEqual(CAPTURE_SCHEMA);
    expect(records).toHaveLength(4);
    expect(records[1]).toMatchObject({
      SequenceNumber: 101,
      Offset: '4096',
      EnqueuedTimeUtc: '3/7/2026 9:05:02 AM',
      SystemProperties: { 'x-opt-partition-key': { string: 'key' } }, // unions as Avro's JSON encoding
      Properties: {},
    });
    const body = records[1]!.Body as { bytes: Buffer };
    expect(JSON.parse(body.bytes.toString())).toEqual({ partition: 0, i: 1 });
  });
});
