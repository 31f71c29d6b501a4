import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import type { Format } from '@hubcap/shared';
import { describe, expect, it } from 'vitest';
import { decodeAvro, decodeNdjson } from '../../test/read-back.ts';
import type { SourceEvent } from '../pipeline/event.ts';
import { CAPTURE_SCHEMA, captureTimeString } from './avro/avro.ts';
import { newSegmentResult } from './format.ts';
import { createFileFormat } from './index.ts';

function events(n: number, from = 0): SourceEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    body: Buffer.from(JSON.stringify({ id: from + i, text: 'x'.repeat(i % 50) })),
    sequenceNumber: from + i,
    offset: String((from + i) * 100),
    enqueuedTimeUtc: new Date(Date.UTC(2026, 2, 7, 21, 5, 2, 123)),
    partitionKey: i % 2 ? 'k' : null,
    properties: { n: i, f: 1.5, s: 'v', b: Buffer.from([1]), nil: null, flag: true },
    systemProperties: { 'x-opt-publisher': 'p' },
  }));
}

async function encode(format: Format, batches: SourceEvent[][]): Promise<{ name: string; bytes: Buffer }> {
  const f = createFileFormat(format);
  const streams = f.createStreams({
    partitionId: '0',
    deadLetter: () => undefined,
    result: newSegmentResult(),
  });
  const sink = new PassThrough();
  const collected = buffer(sink);
  await pipeline([Readable.from(batches, { objectMode: true }), ...streams, sink]);
  return { name: `x${f.extension}`, bytes: await collected };
}

describe('file formats', () => {
  for (const compression of ['gzip', 'zstd', 'none'] as const) {
    it(`round-trips NDJSON with ${compression}`, async () => {
      const batches = [events(300), events(200, 300)];
      const { name, bytes } = await encode({ type: 'ndjson', compression }, batches);
      const lines = decodeNdjson(name, bytes);
      expect(lines).toHaveLength(500);
      expect(lines.map((l) => JSON.parse(l).id)).toEqual(Array.from({ length: 500 }, (_, i) => i));
      if (compression !== 'none') expect(bytes.byteLength).toBeLessThan(lines.join('\n').length / 3);
    });
  }

  for (const codec of ['deflate', 'null'] as const) {
    it(`writes Avro in Capture's schema with the ${codec} codec`, async () => {
      const { bytes } = await encode({ type: 'avro', codec }, [events(3000), events(10, 3000)]);
      const { records, codec: written, schema } = await decodeAvro(bytes);
      expect(written).toBe(codec);
      expect(schema).toEqual(CAPTURE_SCHEMA);
      expect(records).toHaveLength(3010);
      const r = records[1]!;
      expect(r.SequenceNumber).toBe(1);
      expect(r.Offset).toBe('100');
      expect(r.EnqueuedTimeUtc).toBe('3/7/2026 9:05:02 PM');
      expect(JSON.parse(r.Body!.bytes.toString())).toEqual({ id: 1, text: 'x' });
      expect(r.Properties).toEqual({
        n: { long: 1 },
        f: { double: 1.5 },
        s: { string: 'v' },
        b: { bytes: Buffer.from([1]) },
        nil: null,
        flag: { string: 'true' },
      });
      expect(r.SystemProperties).toEqual({
        'x-opt-publisher': { string: 'p' },
        'x-opt-partition-key': { string: 'k' },
      });
    });
  }

  it('writes a valid empty Avro file', async () => {
    const { bytes } = await encode({ type: 'avro', codec: 'deflate' }, []);
    expect((await decodeAvro(bytes)).records).toEqual([]);
  });

  it('formats Capture times like .NET (M/d/yyyy h:mm:ss tt, UTC)', () => {
    expect(captureTimeString(new Date('2026-03-07T00:05:09Z'))).toBe('3/7/2026 12:05:09 AM');
    expect(captureTimeString(new Date('2026-12-31T12:00:00Z'))).toBe('12/31/2026 12:00:00 PM');
  });

  it('refuses Parquet without its engine', () => {
    expect(() => createFileFormat({ type: 'parquet', compression: 'zstd' })).toThrow(/DuckDB engine/);
  });
});
