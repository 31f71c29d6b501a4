/**
 * Benchmark: `npm run bench -w @hubcap/agent` (optional env BENCH_EVENTS, default 500 000).
 * Preloads 1 KB JSON events on 4 partitions of the local Event Hubs server, then measures in one run:
 * (a) a bare SDK consumer that only counts, (b) the agent (child process) writing NDJSON + gzip to
 * Azurite with 256 MiB segments, (c) the SDK-sample way: one blob per received batch + checkpoint,
 * (d) the agent writing Parquet (zstd) from the same events, same segments; and, writer only (no
 * Event Hubs, no storage), NDJSON + gzip against Parquet on the same generated events (formats.ts).
 * Writes bench/results.md.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { EventHubProducerClient } from '@azure/event-hubs';
import { spawnAzurite } from '@hubcap/local-azurite';
import { startLocalEventHubs } from '@hubcap/local-eventhubs';
import { agentNodeOptions, type Format } from '@hubcap/shared';
import { AGENT_MAIN } from '../test/harness.ts';
import { measureCompression } from './compression.ts';
import { jsonEvent } from './events.ts';

const TOTAL = Number(process.env.BENCH_EVENTS ?? 500_000);
/** Each agent runs as deployed with the memory its target allows (`scaling.memory` → NODE_OPTIONS). */
const NDJSON_MEMORY = '256Mi';
const PARQUET_MEMORY = '512Mi';
const PARTITIONS = ['0', '1', '2', '3'];
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

interface Result {
  name: string;
  events: number;
  bytes: number;
  seconds: number;
  cpuSeconds: number;
  maxRssBytes: number;
  files: number;
  /** Bytes of the files in the lake (b, d). */
  lakeBytes?: number;
  /** CPU of the Event Hubs server (this process) during the run. */
  serverCpuSeconds: number;
}

async function runChild(args: string[], env: Record<string, string> = {}): Promise<Record<string, number>> {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`${args[0]} exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop()!);
}

async function main() {
  const eh = await startLocalEventHubs({ hubs: [{ name: 'bench', partitionCount: 4 }], port: 0 });
  // Azurite in its own process: it must not share an event loop with the Event Hubs server.
  const azurite = await spawnAzurite();
  const connectionString = eh.connectionString('bench');
  try {
    log(`preloading ${TOTAL} events of ~1 KB on 4 partitions`);
    const t0 = performance.now();
    const producer = new EventHubProducerClient(connectionString, 'bench');
    const perPartition = Math.ceil(TOTAL / PARTITIONS.length);
    let preloadedBytes = 0;
    await Promise.all(
      PARTITIONS.map(async (partitionId, p) => {
        let batch = await producer.createBatch({ partitionId });
        for (let i = 0; i < perPartition; i++) {
          const body = jsonEvent(p * perPartition + i, 1024);
          preloadedBytes += body.byteLength;
          if (!batch.tryAdd({ body })) {
            await producer.sendBatch(batch);
            batch = await producer.createBatch({ partitionId });
            batch.tryAdd({ body });
          }
        }
        if (batch.count) await producer.sendBatch(batch);
      }),
    );
    await producer.close();
    const total = perPartition * PARTITIONS.length;
    const preloadSeconds = (performance.now() - t0) / 1000;
    log(
      `preloaded ${total} events (${(preloadedBytes / 1e6).toFixed(0)} MB) in ${preloadSeconds.toFixed(1)} s`,
    );

    const results: Result[] = [];
    log('(a) bare consumer');
    const a = await withServerCpu(() =>
      runChild([here('./ceiling.ts'), connectionString, 'bench', String(total)]),
    );
    results.push({ name: '(a) bare SDK consumer (count only)', ...(a as Omit<Result, 'name'>) });

    /** One agent run over the preloaded events, with the servers' CPU, added to the results. */
    const agentRun = async (
      name: string,
      format: Record<string, string>,
      lakeName: string,
      memory: string,
    ) => {
      log(`${name}, 256 MiB segments`);
      const run = async () => {
        const lake = await azurite.container(lakeName);
        await azurite.container(`${lakeName}-checkpoints`);
        const r = await runAgent(connectionString, azurite.connectionString, eh.port, total, {
          format,
          container: lakeName,
          memory,
        });
        let files = 0;
        let lakeBytes = 0;
        for await (const blob of lake.listBlobsFlat()) {
          files++;
          lakeBytes += blob.properties.contentLength ?? 0;
        }
        return { name, ...r, files, lakeBytes };
      };
      results.push(await withServerCpu(run));
    };
    const ndjsonGzip = { type: 'ndjson', compression: 'gzip' };
    await agentRun('(b) hubcap agent, NDJSON+gzip → Azurite', ndjsonGzip, 'bench-lake', NDJSON_MEMORY);

    log('(c) naive: one blob per batch + checkpoint');
    const c = await withServerCpu(() =>
      runChild([here('./naive.ts'), connectionString, 'bench', String(total), azurite.connectionString]),
    );
    results.push({ name: '(c) SDK-sample way: blob per batch + checkpoint', ...(c as Omit<Result, 'name'>) });

    const parquetZstd = { type: 'parquet', compression: 'zstd' };
    await agentRun(
      '(d) hubcap agent, Parquet (zstd) → Azurite',
      parquetZstd,
      'bench-parquet',
      PARQUET_MEMORY,
    );

    log('writers only: NDJSON + gzip and Parquet on the same generated events');
    const writerEvents = String(Number(process.env.BENCH_WRITER_EVENTS ?? 200_000));
    const writers = {
      ndjson: (await runChild([
        here('./formats.ts'),
        'ndjson-gzip',
        writerEvents,
      ])) as unknown as WriterResult,
      parquet: (await runChild([
        here('./formats.ts'),
        'parquet-zstd',
        writerEvents,
      ])) as unknown as WriterResult,
    };

    log('compression levels');
    const compression = measureCompression(32);
    // The hand-written "Reading the results" section at the end survives a new run.
    const notes = /\n## Reading the results[\s\S]*$/.exec(
      await readFile(here('./results.md'), 'utf8').catch(() => ''),
    );
    await writeFile(
      here('./results.md'),
      report(results, writers, compression, { total, preloadedBytes, preloadSeconds }) + (notes?.[0] ?? ''),
    );
    log('wrote bench/results.md');
    for (const r of results)
      log(
        `${r.name}: ${(r.events / r.seconds).toFixed(0)} ev/s, ${r.files} files, ${(r.cpuSeconds).toFixed(1)} cpu-s, ${(r.maxRssBytes / 2 ** 20).toFixed(0)} MiB`,
      );
  } finally {
    await azurite.close();
    await eh.close();
  }
}

/**
 * Adds the CPU time this process spent meanwhile: the Event Hubs server delivering the events (the
 * /metrics polling of an agent run is a small part of it).
 */
async function withServerCpu<T extends object>(
  run: () => Promise<T>,
): Promise<T & { serverCpuSeconds: number }> {
  const before = process.cpuUsage();
  const result = await run();
  const used = process.cpuUsage(before);
  return { ...result, serverCpuSeconds: (used.user + used.system) / 1e6 };
}

/** Runs the agent until every event has been received, then SIGTERM (drain: publish + checkpoint). */
async function runAgent(
  ehConnection: string,
  storage: string,
  ehPort: number,
  total: number,
  { format, container, memory }: { format: Record<string, string>; container: string; memory: string },
) {
  const config = {
    topic: 'bench',
    source: {
      fullyQualifiedNamespace: `127.0.0.1:${ehPort}`,
      eventHubName: 'bench',
      auth: { kind: 'connectionString', connectionString: ehConnection },
    },
    destination: {
      kind: 'azureBlob',
      account: { kind: 'connectionString', connectionString: storage },
      container,
      checkpointContainer: `${container}-checkpoints`,
    },
    format,
    batching: { maxBytes: 256 * 1024 * 1024, maxEvents: 50_000_000, maxAgeSeconds: 3600 },
    scaling: { memory },
  };
  const child = spawn(process.execPath, [AGENT_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      // What the deployer sets; BENCH_NODE_OPTIONS adds e.g. --cpu-prof.
      NODE_OPTIONS: `${agentNodeOptions(memory, format.type as Format['type'])} ${process.env.BENCH_NODE_OPTIONS ?? ''}`,
      ...(process.env.BENCH_AGENT_ENV ? JSON.parse(process.env.BENCH_AGENT_ENV) : {}),
      HUBCAP_CONFIG: JSON.stringify(config),
      HUBCAP_HTTP_PORT: '0',
      HUBCAP_LB_UPDATE_INTERVAL_MS: '1000',
      HUBCAP_ALLOWED_ENDPOINTS: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = once(child, 'exit');
  let port = 0;
  while (!port) {
    await new Promise((r) => setTimeout(r, 50));
    const m = /"port":(\d+)/.exec(out);
    if (m) port = Number(m[1]);
  }
  let first = 0;
  let received = 0;
  let bytes = 0;
  while (received < total) {
    // Scraping /metrics costs the agent CPU: often only near the start and the end, where it sets the timing.
    const nearEdge = received === 0 || received > total * 0.9;
    await new Promise((r) => setTimeout(r, nearEdge ? 50 : 500));
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    received = sum(text, 'hubcap_events_received_total');
    bytes = sum(text, 'hubcap_bytes_received_total');
    if (received > 0 && !first) first = performance.now();
  }
  child.kill('SIGTERM');
  const [code] = await exited;
  const seconds = (performance.now() - first) / 1000;
  if (code !== 0) throw new Error(`agent exited with ${code}`);
  const stopped = out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === 'stopped')!;
  return {
    events: received,
    bytes,
    seconds,
    cpuSeconds: stopped.cpuSeconds as number,
    maxRssBytes: stopped.maxRssBytes as number,
  };
}

function sum(metrics: string, name: string): number {
  let total = 0;
  for (const m of metrics.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+(?:\\.\\d+)?(?:e\\+\\d+)?)$`, 'gm')))
    total += Number(m[1]);
  return total;
}

interface WriterResult {
  events: number;
  cpuSeconds: number;
  maxRssBytes: number;
  bytes: number;
}

function report(
  results: Result[],
  writers: { ndjson: WriterResult; parquet: WriterResult },
  compression: ReturnType<typeof measureCompression>,
  preload: { total: number; preloadedBytes: number; preloadSeconds: number },
): string {
  const row = (r: Result) => {
    const gb = r.bytes / 1e9;
    return `| ${r.name} | ${(r.events / r.seconds).toFixed(0)} | ${(r.bytes / 1e6 / r.seconds).toFixed(1)} | ${r.seconds.toFixed(1)} | ${(r.cpuSeconds / gb).toFixed(1)} | ${(r.serverCpuSeconds / gb).toFixed(1)} | ${(r.maxRssBytes / 2 ** 20).toFixed(0)} | ${r.files} |`;
  };
  const [a, b, c, d] = results as [Result, Result, Result, Result];
  const perCore = (r: Result) => r.events / r.cpuSeconds;
  const rate = (r: Result) => r.events / r.seconds;
  const cpuPerGB = b.cpuSeconds / (b.bytes / 1e9);
  const perDay = 300 * cpuPerGB; // CPU-seconds for 300 GB
  const gzip1 = compression.find((x) => x.codec === 'gzip-1')?.mbPerSecond ?? Number.NaN;
  const target = (0.7 * a.bytes) / a.seconds / 1e9; // GB/s
  const serverPerGB = b.serverCpuSeconds / (b.bytes / 1e9);
  const budget = {
    floor: target * (a.cpuSeconds / (a.bytes / 1e9) + 1000 / gzip1),
    server: target * serverPerGB,
    measured: target * (cpuPerGB + serverPerGB),
  };
  const coresNeeded = perDay / 86_400;
  return `# Agent benchmark

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} (1-minute load average ${loadavg()[0]!.toFixed(1)} at the end), Node ${process.version}.
The local Event Hubs server runs in the benchmark process and Azurite in its own; each contender runs as its own
child process and reports its own CPU time (\`process.resourceUsage()\`) and peak RSS (VmHWM).
Preload: ${preload.total} JSON events of ~1 KB (${(preload.preloadedBytes / 1e6).toFixed(0)} MB) on 4 partitions, ${preload.preloadSeconds.toFixed(0)} s.
Time runs from the first received event to the last event received (a, c) or to the end of the
agent's drain after the last event was received — every file published and checkpointed (b, d).

| contender | events/s | MB/s (bodies) | seconds | CPU-s per GB | server CPU-s per GB | peak RSS MiB | files |
|---|---:|---:|---:|---:|---:|---:|---:|
${results.map(row).join('\n')}

- (b)/(a) throughput: **${((rate(b) / rate(a)) * 100).toFixed(0)} %** (target ≥ 70 %)
- (b)/(c) throughput: **${(rate(b) / rate(c)).toFixed(1)}×**, with ${b.files} files instead of ${c.files}
- Peak RSS of (b) with 256 MiB segments: **${(b.maxRssBytes / 2 ** 20).toFixed(0)} MiB** (target ≤ 256 MiB), running as deployed with
  \`scaling.memory: ${NDJSON_MEMORY}\` (NODE_OPTIONS \`${agentNodeOptions(NDJSON_MEMORY)}\`; (d) with ${PARQUET_MEMORY}). Memory does not
  grow with the segment size: blocks are staged every 4 MiB.
- CPU: ${cpuPerGB.toFixed(1)} CPU-seconds per GB of events → 300 GB/day needs ${perDay.toFixed(0)} CPU-s/day =
  **${coresNeeded.toFixed(3)} of one core** on average (target ≤ 0.25).
- CPU budget of the 70 % target on this machine (${cpus().length} cores): at 70 % of (a)'s rate (${(target * 1000).toFixed(0)} MB/s), receiving alone
  costs what (a) costs (${(a.cpuSeconds / (a.bytes / 1e9)).toFixed(1)} CPU-s/GB) and gzip-1 alone ${(1000 / gzip1).toFixed(1)} CPU-s/GB (table below): **${budget.floor.toFixed(2)} cores** for the
  agent before any of its own work, plus ${budget.server.toFixed(2)} for the Event Hubs server (its CPU per GB in (b)). At the agent's measured
  cost the rate would take **${budget.measured.toFixed(2)} cores** with the server, Azurite not counted.

## Parquet vs NDJSON + gzip (same events, same 256 MiB segments, agent → Azurite)

| format | events/s | events/s per core (CPU-s) | peak RSS MiB | lake bytes | files |
|---|---:|---:|---:|---:|---:|
| NDJSON + gzip-1 | ${rate(b).toFixed(0)} | ${perCore(b).toFixed(0)} | ${(b.maxRssBytes / 2 ** 20).toFixed(0)} | ${b.lakeBytes} | ${b.files} |
| Parquet (zstd, DuckDB COPY) | ${rate(d).toFixed(0)} | ${perCore(d).toFixed(0)} | ${(d.maxRssBytes / 2 ** 20).toFixed(0)} | ${d.lakeBytes} | ${d.files} |

- Parquet writer throughput per core: **${(writers.parquet.events / writers.parquet.cpuSeconds).toFixed(0)} events/s** (target ≥ 30 000; NDJSON + gzip ${(writers.ndjson.events / writers.ndjson.cpuSeconds).toFixed(0)}, writers-only table below);
  the whole agent, receiving and uploading included, ${perCore(d).toFixed(0)} events/s per core (NDJSON + gzip ${perCore(b).toFixed(0)}).
  Peak RSS of the Parquet agent **${(d.maxRssBytes / 2 ** 20).toFixed(0)} MiB** (target ≤ 512).
- Parquet files are **${((b.lakeBytes ?? 0) / (d.lakeBytes ?? 1)).toFixed(2)}×** smaller than NDJSON + gzip, **${(preload.preloadedBytes / (d.lakeBytes ?? 1)).toFixed(1)}×** smaller than the raw bodies.
- Per core = events ÷ the agent's own CPU seconds (user + system, DuckDB's threads included), so it
  does not depend much on what else the shared machine runs. It includes receiving over AMQP (see
  the bare consumer's CPU per GB above) and uploading.

Writers only (${writers.parquet.events} generated ~1 KB events in one file, one process each, no Event Hubs, no storage;
the cost of generating the events is measured apart and subtracted):

| writer | events/s per core | peak RSS MiB | bytes | size vs NDJSON + gzip |
|---|---:|---:|---:|---:|
| NDJSON + gzip-1 | ${(writers.ndjson.events / writers.ndjson.cpuSeconds).toFixed(0)} | ${(writers.ndjson.maxRssBytes / 2 ** 20).toFixed(0)} | ${writers.ndjson.bytes} | 1 |
| Parquet, zstd (spill + DuckDB COPY) | ${(writers.parquet.events / writers.parquet.cpuSeconds).toFixed(0)} | ${(writers.parquet.maxRssBytes / 2 ** 20).toFixed(0)} | ${writers.parquet.bytes} | 1/${(writers.ndjson.bytes / writers.parquet.bytes).toFixed(2)} |

## Compression levels (NDJSON of the same 1 KB events, one core, in memory)

| codec | input MB/s per core | ratio |
|---|---:|---:|
${compression.map((c) => `| ${c.codec} | ${c.mbPerSecond.toFixed(0)} | ${c.ratio.toFixed(2)} |`).join('\n')}

Chosen: gzip level 1 (several times faster than level 6 for a slightly larger file; gzip is the
compatibility default) and zstd level 3 (as fast as level 1 here, smaller files).
`;
}

await main();
process.exit(0);
