/**
 * Completeness's cost on the write path: `node bench/completeness.ts [events]` (default 200 000 ~1 KB
 * events over 4 hourly windows of one partition, NDJSON + gzip, 10 000 events per file) writes the same
 * events through a PartitionWriter to Azurite (in its own process) twice — without and with window
 * sealing before checkpoints — and reports CPU seconds, wall seconds, the time spent sealing, and the
 * Content-MD5 hashing the sink does on every byte (measured alone on the bytes written).
 */
import { createHash } from 'node:crypto';
import { readAllBlobs, spawnAzurite } from '@hubcap/local-azurite';
import { PATH_PRESETS } from '@hubcap/shared';
import pino from 'pino';
import { PartitionSealer } from '../src/completeness/sealer.ts';
import { WindowStore } from '../src/completeness/window-store.ts';
import { createFileFormat } from '../src/formats/index.ts';
import { PartitionWriter } from '../src/ingest/partition-writer.ts';
import type { SourceEvent } from '../src/pipeline/event.ts';
import { newPartitionStats } from '../src/runtime/status.ts';
import { processUsage } from '../src/runtime/usage.ts';
import { AzureBlobSink } from '../src/sink/azure-blob-sink.ts';
import { jsonEvent } from './events.ts';

const total = Number(process.argv[2] ?? 200_000);
const hour = 3600_000;
const start = Date.UTC(2026, 0, 1);
const events: SourceEvent[] = Array.from({ length: total }, (_, i) => ({
  body: jsonEvent(i, 1024),
  sequenceNumber: i,
  offset: String(i * 1100),
  enqueuedTimeUtc: new Date(start + Math.floor((i * 4 * hour) / total)),
}));
const format = createFileFormat({ type: 'ndjson', compression: 'gzip' });
const log = pino({ level: 'silent' });
const azurite = await spawnAzurite();

async function run(sealing: boolean) {
  const container = await azurite.container();
  const staging = await azurite.container();
  const sink = new AzureBlobSink({ container, stagingContainer: staging, stagingPrefix: 's/t' });
  const layout = {
    prefix: 'lake',
    template: PATH_PRESETS.hive,
    namespace: 'ns',
    hub: 'h',
    topic: 't',
    extension: format.extension,
  };
  const store = new WindowStore(layout, sink, undefined);
  const sealer = new PartitionSealer(
    { topic: 't', store, log, partitionIds: async () => ['0'] },
    '0',
    null,
    async () => true,
  );
  let sealingMs = 0;
  const writer = new PartitionWriter({
    partitionId: '0',
    layout,
    format,
    limits: { maxBytes: 1 << 30, maxEvents: 10_000, maxAgeMs: hour, boundary: 'hour' },
    sink,
    log,
    stats: newPartitionStats(),
    checkpoint: async () => {},
    ...(sealing
      ? {
          beforeCheckpoint: async (file, signal) => {
            const t = performance.now();
            await sealer.beforeCheckpoint(file, signal);
            sealingMs += performance.now() - t;
          },
        }
      : {}),
  });
  const cpu0 = processUsage().cpuSeconds;
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += 500) await writer.write(events.slice(i, i + 500));
  await writer.drain();
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = processUsage().cpuSeconds - cpu0;
  const blobs = await readAllBlobs(container);
  const data = [...blobs].filter(([name]) => name.endsWith(format.extension));
  const bytes = data.reduce((n, [, b]) => n + b.byteLength, 0);
  const manifests = [...blobs.keys()].filter((n) => n.includes('/_hubcap/')).length;
  return {
    sealing,
    seconds,
    cpuSeconds,
    sealingMs,
    files: data.length,
    bytes,
    manifests,
    outputs: data.map(([, b]) => b),
  };
}

const rows = [];
for (const sealing of [false, true, false, true]) rows.push(await run(sealing));
const outputs = rows[0]!.outputs;
const h0 = processUsage().cpuSeconds;
for (const b of outputs) createHash('md5').update(b).digest();
const md5Seconds = processUsage().cpuSeconds - h0;
await azurite.close();
const summary = rows.map(({ outputs: _, ...r }) => r);
console.log(JSON.stringify({ events: total, md5Seconds, runs: summary }));
