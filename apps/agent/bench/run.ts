/**
 * Benchmark: `npm run bench -w @hubcap/agent` (optional env BENCH_EVENTS, default 500 000;
 * BENCH_SEED_SECONDS, default 180). Preloads 1 KB JSON events on 4 partitions of the local Event Hubs
 * server, then measures in one run the agent's CPU per GB against the floor no agent on this SDK can
 * go below: (a) a bare SDK consumer that only counts, plus each format's encoder alone on the same
 * events (formats.ts); then the agent writing each format to Azurite with 256 MiB segments, flat out,
 * at the memory the control plane recommends for the format (and NDJSON at 256Mi too); then the agent
 * and the bare consumer at the seed's real rate with product-default batching. Writes bench/results.md.
 * Last, window end → topic marker at the demo rate (marker-latency.ts, its own hub and Azurite).
 * To compare one change (printed; results.md stays as it is): BENCH_ONLY=floor runs only the floor,
 * BENCH_ONLY=seed only the seed-rate agent, BENCH_ONLY=<encoder> (ndjson-gzip, ndjson-zstd,
 * avro-deflate, parquet-zstd) only that format's agent; BENCH_MEMORY sets the agent's `scaling.memory`,
 * BENCH_AGENT_ARGS adds agent flags, BENCH_AGENT_ENV (JSON) its environment, BENCH_NODE_OPTIONS its
 * NODE_OPTIONS (e.g. --cpu-prof), and BENCH_AGENT_OUT saves its output (--trace-gc) to a file.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { EventHubProducerClient } from '@azure/event-hubs';
import { spawnAzurite } from '@hubcap/local-azurite';
import { startLocalEventHubs } from '@hubcap/local-eventhubs';
import { agentProcessEnv, type Format, recommendedMemory } from '@hubcap/shared';
import { AGENT_MAIN } from '../test/harness.ts';
import { measureCompression } from './compression.ts';
import { jsonEvent } from './events.ts';
import { type MarkerLatency, markerSection } from './marker-latency.ts';

const TOTAL = Number(process.env.BENCH_EVENTS ?? 500_000);
const ENCODER_EVENTS = Number(process.env.BENCH_ENCODER_EVENTS ?? 200_000);
/** The seed: about 3,500 events/s of 1 KB (300 GB/day is 3.5 MB/s). */
const SEED_RATE = 3500;
const SEED_SECONDS = Number(process.env.BENCH_SEED_SECONDS ?? 180);
const SEED_WARMUP_SECONDS = 20;
const SEGMENT_BATCHING = { maxBytes: 256 * 1024 * 1024, maxEvents: 50_000_000, maxAgeSeconds: 3600 };
/**
 * Each format, its encoder alone, its target ratio and the memory its agent runs with (`scaling.memory`):
 * what the control plane recommends for the format, and for NDJSON also the smallest pod the deployer
 * sizes a heap for (256Mi), where the heap's bound costs CPU.
 */
const contender = (
  name: string,
  format: { type: Format['type'] } & Record<string, string>,
  encoder: string,
  target: number,
  memory = recommendedMemory(format.type),
) => ({ name, format, encoder, target, memory });
const CONTENDERS = [
  contender('NDJSON + gzip-1', { type: 'ndjson', compression: 'gzip' }, 'ndjson-gzip', 1.5),
  contender('NDJSON + zstd-3', { type: 'ndjson', compression: 'zstd' }, 'ndjson-zstd', 1.5),
  contender('Avro (deflate)', { type: 'avro', codec: 'deflate' }, 'avro-deflate', 1.75),
  contender('Parquet (zstd)', { type: 'parquet', compression: 'zstd' }, 'parquet-zstd', 1.75),
  contender('NDJSON + gzip-1', { type: 'ndjson', compression: 'gzip' }, 'ndjson-gzip', 1.5, '256Mi'),
];
const PARTITIONS = ['0', '1', '2', '3'];
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

interface Result {
  events: number;
  bytes: number;
  seconds: number;
  cpuSeconds: number;
  maxRssBytes: number;
  fullGcs: number;
  files?: number;
  /** CPU of the Event Hubs server (this process) during the run. */
  serverCpuSeconds?: number;
}

interface EncoderResult {
  events: number;
  inputBytes: number;
  cpuSeconds: number;
  maxRssBytes: number;
  bytes: number;
}

type SeedResult = Omit<Result, 'files' | 'serverCpuSeconds'>;

async function runChild(args: string[], env: Record<string, string> = {}): Promise<Record<string, number>> {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`${args[0]} exited with ${code}`);
  const json = out.split('\n').filter((l) => l.startsWith('{'));
  return { ...JSON.parse(json[json.length - 1]!), fullGcs: fullGcs(out) };
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
    const loads: number[] = [];
    const load = () => loads.push(loadavg()[0]!);
    const only = CONTENDERS.find((c) => c.encoder === process.env.BENCH_ONLY);
    if (only) {
      // One format's agent flat out, printed (to compare changes); results.md stays as it is.
      await azurite.container('bench-only');
      await azurite.container('bench-only-checkpoints');
      const r = await runAgent(connectionString, azurite.connectionString, eh.port, {
        total,
        format: only.format,
        container: 'bench-only',
        memory: process.env.BENCH_MEMORY ?? only.memory,
        batching: SEGMENT_BATCHING,
      });
      log(
        `${only.name}: ${JSON.stringify({ ...r, cpuPerGB: perGB(r.cpuSeconds, r.bytes), load: loadavg()[0] })}`,
      );
      return;
    }
    if (process.env.BENCH_ONLY === 'seed') {
      // Only the seed-rate run, printed (to compare agent flags); results.md stays as it is.
      const seed = await seedRateRun(connectionString, azurite, eh.port);
      log(
        `seed: ${JSON.stringify({ ...seed, cpuPerGB: perGB(seed.cpuSeconds, seed.bytes), load: loadavg()[0] })}`,
      );
      return;
    }

    log('(a) bare consumer');
    const bare = (await withServerCpu(() =>
      runChild(['--trace-gc', here('./ceiling.ts'), connectionString, 'bench', String(total)]),
    )) as unknown as Result;
    load();

    const encoders: Record<string, EncoderResult> = {};
    for (const encoder of new Set(CONTENDERS.map((c) => c.encoder))) {
      log(`encoder alone: ${encoder}`);
      encoders[encoder] = (await runChild([
        here('./formats.ts'),
        encoder,
        String(ENCODER_EVENTS),
      ])) as unknown as EncoderResult;
    }
    if (process.env.BENCH_ONLY === 'floor') {
      // Only the floor, printed (to compare with BENCH_ONLY=<encoder> runs); results.md stays as it is.
      const receive = perGB(bare.cpuSeconds, bare.bytes);
      for (const [name, e] of Object.entries(encoders))
        log(`floor ${name}: ${(receive + perGB(e.cpuSeconds, e.inputBytes)).toFixed(1)} CPU-s/GB`);
      log(`bare consumer: ${receive.toFixed(1)} CPU-s/GB, load ${loadavg()[0]}`);
      return;
    }

    const agents: Result[] = [];
    for (const [i, contender] of CONTENDERS.entries()) {
      log(`agent: ${contender.name}`);
      const lakeName = `bench-lake-${i}`;
      const lake = await azurite.container(lakeName);
      await azurite.container(`${lakeName}-checkpoints`);
      const r = await withServerCpu(() =>
        runAgent(connectionString, azurite.connectionString, eh.port, {
          total,
          format: contender.format,
          container: lakeName,
          memory: contender.memory,
          batching: SEGMENT_BATCHING,
        }),
      );
      let files = 0;
      for await (const _ of lake.listBlobsFlat()) files++;
      agents.push({ ...r, files });
      load();
    }

    log(`seed rate: ${SEED_RATE} events/s for ${SEED_SECONDS} s, product-default batching`);
    const seed = await seedRateRun(connectionString, azurite, eh.port);
    load();
    log(`bare consumer at the seed rate for ${SEED_SECONDS} s`);
    const seedFloor = await seedFloorRun(connectionString);
    load();

    log('compression levels');
    const compression = measureCompression(32);
    log('window end → topic marker');
    const markers = (await runChild([here('./marker-latency.ts')])) as unknown as MarkerLatency;
    // The hand-written "Reading the results" section at the end survives a new run.
    const notes = /\n## Reading the results[\s\S]*$/.exec(
      await readFile(here('./results.md'), 'utf8').catch(() => ''),
    );
    await writeFile(
      here('./results.md'),
      report(
        { bare, encoders, agents, seed, seedFloor, compression, loads },
        { total, preloadedBytes, preloadSeconds },
      ) +
        `\n${markerSection(markers)}` +
        (notes?.[0] ?? ''),
    );
    log('wrote bench/results.md');
  } finally {
    await azurite.close();
    await eh.close();
  }
}

/**
 * The agent at the seed's real rate: a steady producer, product-default batching and receiving, the
 * NDJSON + gzip default. CPU and bytes are read from the agent's /metrics over the measured window
 * (after a warm-up), so start-up and the final drain do not count.
 */
async function seedRateRun(
  ehConnection: string,
  azurite: Awaited<ReturnType<typeof spawnAzurite>>,
  ehPort: number,
): Promise<SeedResult> {
  await azurite.container('bench-seed');
  await azurite.container('bench-seed-checkpoints');
  return atSeedRate(ehConnection, () =>
    runAgent(ehConnection, azurite.connectionString, ehPort, {
      format: { type: 'ndjson', compression: 'gzip' },
      container: 'bench-seed',
      memory: process.env.BENCH_MEMORY ?? recommendedMemory('ndjson'),
      startPosition: 'latest',
      window: { warmupSeconds: SEED_WARMUP_SECONDS, seconds: SEED_SECONDS },
    }),
  );
}

/** The bare consumer at the seed's rate, over the same window: the floor's receiving part at that rate. */
function seedFloorRun(ehConnection: string): Promise<SeedResult> {
  return atSeedRate(
    ehConnection,
    async () =>
      (await runChild([
        '--trace-gc',
        here('./ceiling.ts'),
        ehConnection,
        'bench',
        `window:${SEED_WARMUP_SECONDS}:${SEED_SECONDS}`,
      ])) as unknown as SeedResult,
  );
}

/** Runs `measure` while a producer sends SEED_RATE new events/s (100 ms ticks, round robin over the partitions). */
async function atSeedRate<T>(ehConnection: string, measure: () => Promise<T>): Promise<T> {
  const producer = new EventHubProducerClient(ehConnection, 'bench');
  let sending = true;
  let sent = 0;
  const send = (async () => {
    const perTick = SEED_RATE / 10;
    const started = performance.now();
    for (let tick = 0; sending; tick++) {
      const batch = await producer.createBatch({ partitionId: PARTITIONS[tick % PARTITIONS.length]! });
      for (let i = 0; i < perTick; i++) batch.tryAdd({ body: jsonEvent(10_000_000 + sent++, 1024) });
      await producer.sendBatch(batch);
      const wait = started + (tick + 1) * 100 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  try {
    return await measure();
  } finally {
    sending = false;
    await send;
    await producer.close();
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

interface AgentRun {
  format: { type: Format['type'] } & Record<string, string>;
  container: string;
  memory: string;
  /** Flat out: run until this many events are received, then SIGTERM (drain: publish + checkpoint). */
  total?: number;
  /** At a rate: measure over this window after a warm-up (CPU and bytes from /metrics). */
  window?: { warmupSeconds: number; seconds: number };
  batching?: Record<string, number>;
  startPosition?: 'earliest' | 'latest';
}

/** Runs the agent as deployed (its environment from `scaling.memory`), counting its full collections. */
async function runAgent(
  ehConnection: string,
  storage: string,
  ehPort: number,
  run: AgentRun,
): Promise<Omit<Result, 'files' | 'serverCpuSeconds'>> {
  const config = {
    topic: 'bench',
    source: {
      fullyQualifiedNamespace: `127.0.0.1:${ehPort}`,
      eventHubName: 'bench',
      auth: { kind: 'connectionString', connectionString: ehConnection },
      startPosition: run.startPosition ?? 'earliest',
    },
    destination: {
      kind: 'azureBlob',
      account: { kind: 'connectionString', connectionString: storage },
      container: run.container,
      checkpointContainer: `${run.container}-checkpoints`,
    },
    format: run.format,
    ...(run.batching ? { batching: run.batching } : {}),
    scaling: { memory: run.memory },
  };
  // BENCH_AGENT_ARGS: Node or V8 flags that NODE_OPTIONS refuses (e.g. --no-memory-reducer).
  const flags = (process.env.BENCH_AGENT_ARGS ?? '').split(' ').filter(Boolean);
  const deployed = agentProcessEnv(run.memory, run.format.type);
  const child = spawn(process.execPath, ['--trace-gc', ...flags, AGENT_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      // What the deployer sets; BENCH_NODE_OPTIONS adds e.g. --cpu-prof.
      ...deployed,
      NODE_OPTIONS: `${deployed.NODE_OPTIONS} ${process.env.BENCH_NODE_OPTIONS ?? ''}`,
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
  const saveTo = process.env.BENCH_AGENT_OUT;
  if (saveTo) exited.then(() => writeFile(saveTo, out));
  let port = 0;
  while (!port) {
    await sleep(50);
    const m = /"port":(\d+)/.exec(out);
    if (m) port = Number(m[1]);
  }
  const scrape = async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return {
      events: sum(text, 'hubcap_events_received_total'),
      bytes: sum(text, 'hubcap_bytes_received_total'),
      cpuSeconds: Number(/^hubcap_process_cpu_seconds_total (\S+)$/m.exec(text)?.[1]),
      fullGcs: fullGcs(out),
      at: performance.now(),
    };
  };
  let first = 0;
  let now = await scrape();
  while (now.events === 0 || (run.total !== undefined && now.events < run.total)) {
    // Scraping /metrics costs the agent CPU: often only near the start and the end, where it sets the timing.
    const nearEdge = now.events === 0 || (run.total !== undefined && now.events > run.total * 0.9);
    await sleep(nearEdge ? 50 : 500);
    now = await scrape();
    if (now.events > 0 && !first) first = performance.now();
  }
  let windowed: Omit<Result, 'files' | 'serverCpuSeconds' | 'maxRssBytes'> | null = null;
  if (run.window) {
    await sleep(run.window.warmupSeconds * 1000);
    const from = await scrape();
    await sleep(run.window.seconds * 1000);
    const to = await scrape();
    windowed = {
      events: to.events - from.events,
      bytes: to.bytes - from.bytes,
      seconds: (to.at - from.at) / 1000,
      cpuSeconds: to.cpuSeconds - from.cpuSeconds,
      fullGcs: to.fullGcs - from.fullGcs,
    };
  }
  child.kill('SIGTERM');
  const [code] = await exited;
  const seconds = (performance.now() - first) / 1000;
  if (code !== 0) throw new Error(`agent exited with ${code}`);
  const stopped = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === 'stopped')!;
  const maxRssBytes = stopped.maxRssBytes as number;
  return windowed
    ? { ...windowed, maxRssBytes }
    : {
        events: now.events,
        bytes: now.bytes,
        seconds,
        cpuSeconds: stopped.cpuSeconds as number,
        maxRssBytes,
        fullGcs: fullGcs(out),
      };
}

/** Full (mark-compact) collections in `--trace-gc` output. */
function fullGcs(traceGc: string): number {
  return traceGc.match(/Mark-Compact/g)?.length ?? 0;
}

function sum(metrics: string, name: string): number {
  let total = 0;
  for (const m of metrics.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+(?:\\.\\d+)?(?:e\\+\\d+)?)$`, 'gm')))
    total += Number(m[1]);
  return total;
}

const perGB = (cpuSeconds: number, bytes: number) => cpuSeconds / (bytes / 1e9);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

function report(
  run: {
    bare: Result;
    encoders: Record<string, EncoderResult>;
    agents: Result[];
    seed: SeedResult;
    seedFloor: SeedResult;
    compression: ReturnType<typeof measureCompression>;
    loads: number[];
  },
  preload: { total: number; preloadedBytes: number; preloadSeconds: number },
): string {
  const { bare, encoders, agents, seed, seedFloor, compression, loads } = run;
  const receive = perGB(bare.cpuSeconds, bare.bytes);
  const rows = CONTENDERS.map((c, i) => {
    const a = agents[i]!;
    const e = encoders[c.encoder]!;
    const encode = perGB(e.cpuSeconds, e.inputBytes);
    const floor = receive + encode;
    const agent = perGB(a.cpuSeconds, a.bytes);
    return { c, a, encode, floor, agent, ratio: agent / floor };
  });
  const ndjson = rows[0]!;
  const seedPerGB = perGB(seed.cpuSeconds, seed.bytes);
  const seedRatio = seedPerGB / ndjson.floor;
  const seedReceive = perGB(seedFloor.cpuSeconds, seedFloor.bytes);
  const seedFloorPerGB = seedReceive + ndjson.encode;
  const seedMemory = process.env.BENCH_MEMORY ?? recommendedMemory('ndjson');
  /** A 300 GB/day topic's hour of backlog, and the rate that keeps arriving while it is caught up. */
  const backlogGB = 300 / 24;
  const arrivingGBs = 300 / 86_400;
  const catchUp = (cores: number, cpuPerGB: number) => {
    const net = cores / cpuPerGB - arrivingGBs;
    return net > 0 ? `${(backlogGB / net / 60).toFixed(0)} min` : 'never';
  };
  const loadText = loads.map((l) => l.toFixed(1)).join(', ');
  return `# Agent benchmark

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; 1-minute load average after each
measurement (bare consumer, the agents in the table's order, the seed-rate agent, the bare consumer at the seed rate): ${loadText}. The machine is shared: CPU
seconds per GB (user + system, all threads, from \`process.resourceUsage()\`) is the figure that does not
depend on the load; events/s does.
Preload: ${preload.total} JSON events of ~1 KB (${(preload.preloadedBytes / 1e6).toFixed(0)} MB) on 4 partitions, ${preload.preloadSeconds.toFixed(0)} s.
The local Event Hubs server runs in the benchmark process, Azurite in its own; each contender is its own
child process. Full GCs: mark-compact collections counted with \`--trace-gc\`.

## CPU per GB against the floor (flat out, 256 MiB segments, heap as the deployer sets it for the memory shown)

Floor = the bare SDK consumer (receive only, \`skipParsingBodyAsJson\`): **${receive.toFixed(1)} CPU-s/GB**
(${(bare.events / bare.seconds).toFixed(0)} events/s, peak RSS ${mib(bare.maxRssBytes)} MiB, ${bare.fullGcs} full GCs, V8 defaults)
+ the format's encoder alone on ${ENCODER_EVENTS} of the same events (one process, no Event Hubs, no storage).

| format | memory | agent events/s | agent CPU-s/GB | encoder CPU-s/GB | floor CPU-s/GB | ratio | target | peak RSS MiB | full GCs | files |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows
  .map(
    ({ c, a, encode, floor, agent, ratio }) =>
      `| ${c.name} | ${c.memory} | ${(a.events / a.seconds).toFixed(0)} | ${agent.toFixed(1)} | ${encode.toFixed(1)} | ${floor.toFixed(1)} | **${ratio.toFixed(2)}×** | ≤ ${c.target}× | ${mib(a.maxRssBytes)} | ${a.fullGcs} | ${a.files} |`,
  )
  .join('\n')}

## At the seed's real rate (NDJSON + gzip, product-default batching and receiving, ${seedMemory})

${SEED_RATE} events/s of ~1 KB, steady, from a producer in the benchmark process; measured over ${seed.seconds.toFixed(0)} s after a
${SEED_WARMUP_SECONDS} s warm-up, from the agent's own /metrics: ${(seed.events / seed.seconds).toFixed(0)} events/s received, **${seedPerGB.toFixed(1)} CPU-s/GB**
(${((seed.cpuSeconds / seed.seconds) * 1000).toFixed(0)} millicores), peak RSS ${mib(seed.maxRssBytes)} MiB, ${seed.fullGcs} full GCs in the window.

The floor at this rate: the bare consumer over the same window at the same rate, **${seedReceive.toFixed(1)} CPU-s/GB**
(${(seedFloor.events / seedFloor.seconds).toFixed(0)} events/s; receiving costs more per GB at a steady rate than flat out, where it is
${receive.toFixed(1)}), + the NDJSON + gzip encoder alone (${ndjson.encode.toFixed(1)}) = **${seedFloorPerGB.toFixed(1)} CPU-s/GB**.

| agent at the seed rate against | floor CPU-s/GB | ratio | target |
|---|---:|---:|---:|
| the floor at the same rate | ${seedFloorPerGB.toFixed(1)} | **${(seedPerGB / seedFloorPerGB).toFixed(2)}×** | ≤ 1.5× |
| the flat-out floor | ${ndjson.floor.toFixed(1)} | **${seedRatio.toFixed(2)}×** | ≤ 1.5× |

## Catching up one hour of a 300 GB/day topic (${backlogGB.toFixed(1)} GB) at the CPU limit

From the flat-out CPU-s/GB above; the topic keeps producing ${(arrivingGBs * 1000).toFixed(2)} MB/s meanwhile.

| format | 250m (the former default) | 500m | 1 core (the default) |
|---|---:|---:|---:|
${rows.map(({ c, agent }) => `| ${c.name} (${c.memory}) | ${catchUp(0.25, agent)} | ${catchUp(0.5, agent)} | ${catchUp(1, agent)} |`).join('\n')}

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
