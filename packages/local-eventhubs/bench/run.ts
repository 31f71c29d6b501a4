// Measures the local server's delivery rate to a bare SDK consumer and its ingest rate from the
// SDK producer. Server and consumer run in child processes so each one's CPU time is measured.
import { type ChildProcess, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { EventHubProducerClient } from '@azure/event-hubs';
import { createRng, sampleEvent } from '../src/index.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const PARTITIONS = ['0', '1', '2', '3'];
const loadAtStart = loadavg()[0]!;
const here = import.meta.dirname;

function once<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: { type: string }) => {
      if (msg.type === type) {
        child.off('message', onMessage);
        resolve(msg as T);
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`child exited with ${code} while waiting for ${type}`)));
  });
}

async function serverCpu(server: ChildProcess): Promise<{ seconds: number; rss: number }> {
  const reply = once<{ seconds: number; rss: number }>(server, 'cpu');
  server.send({ type: 'cpu' });
  return reply;
}

const server = fork(join(here, 'server-child.ts'), [], {
  stdio: 'inherit',
  execArgv: process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [],
});
const { connectionString } = await once<{ connectionString: string }>(server, 'ready');

// --- ingest: the SDK producer, one sender per partition, full batches --------------------
const rng = createRng(42);
const bodies = Array.from({ length: 1000 }, (_, i) => sampleEvent(i, rng, { nonJsonShare: 0 }).body);
const eventBytes = bodies.reduce((n, b) => n + b.length, 0) / bodies.length;
const producer = new EventHubProducerClient(connectionString);
await producer.getEventHubProperties();
const ingestCpu0 = await serverCpu(server);
const ingestStart = performance.now();
let sent = 0;
await Promise.all(
  PARTITIONS.map(async (partitionId, p) => {
    const share = Math.ceil(EVENTS / PARTITIONS.length);
    let n = 0;
    while (n < share) {
      const batch = await producer.createBatch({ partitionId });
      while (n < share && batch.tryAdd({ body: bodies[(n * 4 + p) % bodies.length] })) n++;
      await producer.sendBatch(batch);
    }
    sent += n;
  }),
);
const ingestSeconds = (performance.now() - ingestStart) / 1000;
const ingestCpu1 = await serverCpu(server);
await producer.close();

// --- delivery: a bare SDK consumer in its own process --------------------------------------
interface Delivery {
  count: number;
  bytes: number;
  seconds: number;
  cpuSeconds: number;
  serverCpuSeconds: number;
}
async function deliver(maxBatchSize: number): Promise<Delivery> {
  const before = await serverCpu(server);
  const consumer = fork(
    join(here, 'consumer-child.ts'),
    [connectionString, String(sent), String(maxBatchSize)],
    {
      stdio: 'inherit',
    },
  );
  const done = await once<{ count: number; bytes: number; seconds: number; cpuSeconds: number }>(
    consumer,
    'done',
  );
  const after = await serverCpu(server);
  return { ...done, serverCpuSeconds: after.seconds - before.seconds };
}
const deliveries = [
  { label: 'maxBatchSize 1000 (prefetch 3000)', result: await deliver(1000) },
  { label: 'maxBatchSize 100 (prefetch 300)', result: await deliver(100) },
  { label: 'maxBatchSize 1000 again', result: await deliver(1000) },
];
const finalCpu = await serverCpu(server);
server.send({ type: 'stop' });

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const rows = [
  `| ingest: SDK producer \`sendBatch\` (4 partitions, full 1 MB batches) | ${fmt(sent)} | ${fmt(ingestSeconds, 2)} | ${fmt(sent / ingestSeconds)} | ${fmt((sent * eventBytes) / ingestSeconds / 1e6, 1)} | ${fmt(ingestCpu1.seconds - ingestCpu0.seconds, 2)} | (producer in bench process) |`,
  ...deliveries.map(
    ({ label, result: d }) =>
      `| delivery to a bare SDK consumer, ${label} | ${fmt(d.count)} | ${fmt(d.seconds, 2)} | ${fmt(d.count / d.seconds)} | ${fmt(d.bytes / d.seconds / 1e6, 1)} | ${fmt(d.serverCpuSeconds, 2)} | ${fmt(d.cpuSeconds, 2)} |`,
  ),
];
const report = `# Local Event Hubs benchmark

- Date: ${new Date().toISOString()}
- Node: ${process.version}
- Machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), shared with other work; 1-minute load average ${loadAtStart.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end
- Events: ${fmt(sent)} API-gateway JSON events, ${fmt(eventBytes)} bytes on average, 4 partitions, preloaded by the ingest run
- Server RSS at the end (all events held in memory): ${fmt(finalCpu.rss / 1e6)} MB

| run | events | seconds | events/s | MB/s (bodies) | server CPU s | consumer CPU s |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Server and consumer run in separate processes; CPU seconds are user + system time of each
process during the run. When the consumer's CPU seconds are close to the wall-clock seconds
while the server's are well below, the SDK consumer is the bottleneck, not the server.
Run with \`npm run bench -w @hubcap/local-eventhubs\` (\`BENCH_EVENTS\` overrides the event count).
`;
writeFileSync(join(here, 'results.md'), report);
process.stdout.write(report);
