/**
 * An encoder alone (run as a child process by run.ts, one format per process): `node bench/formats.ts
 * <ndjson-gzip|ndjson-zstd|avro-deflate|parquet-zstd> <events>` encodes the same generated ~1 KB JSON
 * events as the preload as one file and prints {events, inputBytes, cpuSeconds, maxRssBytes, bytes} as
 * JSON. Event generation is measured in a dry pass first and subtracted, so the figure is the
 * encoder's own cost: its part of the floor.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { newSegmentResult } from '../src/formats/format.ts';
import { createFileFormat } from '../src/formats/index.ts';
import { DuckDbEngine } from '../src/formats/parquet/duckdb.ts';
import { SchemaTracker } from '../src/formats/parquet/schema-tracker.ts';
import type { SourceEvent } from '../src/pipeline/event.ts';
import { processUsage } from '../src/runtime/usage.ts';
import { jsonEvent } from './events.ts';

const [which = 'parquet-zstd', count = '200000'] = process.argv.slice(2);
const total = Number(count);
const BATCH = 500;

function* batches(): Generator<SourceEvent[]> {
  for (let i = 0; i < total; i += BATCH) {
    const batch: SourceEvent[] = [];
    for (let j = i; j < Math.min(total, i + BATCH); j++) {
      batch.push({
        body: jsonEvent(j, 1024),
        sequenceNumber: j,
        offset: String(j * 1100),
        enqueuedTimeUtc: new Date(Date.UTC(2026, 0, 1) + j),
      });
    }
    yield batch;
  }
}

const cpu = () => processUsage().cpuSeconds;

let c0 = cpu();
let inputBytes = 0;
for (const batch of batches()) for (const e of batch) inputBytes += (e.body as Buffer).byteLength;
const generation = cpu() - c0;

const dir = await mkdtemp(join(tmpdir(), 'hubcap-bench-'));
const engine = which.startsWith('parquet') ? await DuckDbEngine.create({ spillDir: dir }) : undefined;
const configs = {
  'ndjson-gzip': { type: 'ndjson', compression: 'gzip' },
  'ndjson-zstd': { type: 'ndjson', compression: 'zstd' },
  'avro-deflate': { type: 'avro', codec: 'deflate' },
  'parquet-zstd': { type: 'parquet', compression: 'zstd' },
} as const;
const config = configs[which as keyof typeof configs];
if (!config) throw new Error(`unknown encoder ${which}: one of ${Object.keys(configs).join(', ')}`);
const format = createFileFormat(
  config,
  engine ? { parquet: { engine, tracker: new SchemaTracker(), maxBodyBytes: 1 << 20 } } : {},
);
let bytes = 0;
const sink = new Writable({
  write(chunk: Buffer, _, done) {
    bytes += chunk.byteLength;
    done();
  },
});
c0 = cpu();
await pipeline([
  Readable.from(batches(), { objectMode: true }),
  ...format.createStreams({ partitionId: '0', deadLetter: () => undefined, result: newSegmentResult() }),
  sink,
]);
const cpuSeconds = cpu() - c0 - generation;
engine?.close();
await rm(dir, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({ events: total, inputBytes, cpuSeconds, maxRssBytes: processUsage().maxRssBytes, bytes, generationSeconds: generation })}\n`,
);
