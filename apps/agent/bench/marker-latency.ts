/**
 * Window end → topic marker at the demo rate: `node bench/marker-latency.ts` (env
 * BENCH_MARKER_WINDOWS, default 5). Sample traffic at 200 events/s on 4 partitions of the local Event
 * Hubs server, the agent (the demo topic's batching and reporting: 10 s file age, 5 s reports, hourly
 * Hive windows, the finest a template allows) writing to Azurite in its own process. The server's clock
 * is set 20 s before an hour's end; once that window's `_SUCCESS` is there, it jumps to 20 s before the
 * next hour's end, so each measured window costs well under a minute. Latency: from the moment the
 * server's clock passed the window's end to the moment the marker could be read (polled every 100 ms).
 * Prints one JSON line; `bench/run.ts` turns it into a section of results.md (markerSection).
 */
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { BlobStore, verify } from '@hubcap/lake';
import { spawnAzurite } from '@hubcap/local-azurite';
import { startLocalEventHubs, startSampleTraffic } from '@hubcap/local-eventhubs';
import { markerPath, PATH_PRESETS } from '@hubcap/shared';
import { startAgent } from '../test/harness.ts';

const hour = 3600_000;
const RATE = 200;
const MAX_AGE_SECONDS = 10;
const REPORT_SECONDS = 5;
const LEAD_MS = 20_000;
const POLL_MS = 100;
const GIVE_UP_MS = 180_000;

export interface MarkerLatency {
  windows: number;
  latenciesMs: number[];
  targetMs: number;
  rate: number;
  partitions: number;
  loads: number[];
  /** verify over the prefix afterwards: every measured window's marker agrees with its manifests. */
  verifyOk: boolean;
  marked: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The results.md section for a run. */
export function markerSection(r: MarkerLatency): string {
  const s = (ms: number) => (ms / 1000).toFixed(1);
  const within = r.latenciesMs.filter((ms) => ms <= r.targetMs).length;
  return `## Window end → topic marker (\`node bench/marker-latency.ts\`)

${r.rate} events/s (the demo rate) on ${r.partitions} partitions of the local Event Hubs server, the agent with the demo
topic's settings (files at most ${MAX_AGE_SECONDS} s old, reports every ${REPORT_SECONDS} s, hourly windows), Azurite in its own process.
The server's clock is moved to 20 s before each hour's end, so ${r.windows} consecutive windows take minutes, not hours.
Latency = from the server's clock passing the window's end to \`_SUCCESS\` being readable (polled every ${POLL_MS} ms).
1-minute load average at each marker: ${r.loads.map((l) => l.toFixed(1)).join(', ')}.

| windows | min s | median s | max s | target s (end + max file age + one report interval) | within target |
|---:|---:|---:|---:|---:|---:|
| ${r.latenciesMs.length} of ${r.windows} | ${s(Math.min(...r.latenciesMs))} | ${s(median(r.latenciesMs))} | ${s(Math.max(...r.latenciesMs))} | ${s(r.targetMs)} | ${within} |

Afterwards \`hubcap verify\` of the prefix: ${r.verifyOk ? 'ok' : 'PROBLEMS'}, ${r.marked} marker(s) agreeing with their manifests.
`;
}

async function main(): Promise<MarkerLatency> {
  const windows = Number(process.env.BENCH_MARKER_WINDOWS ?? 5);
  let offset = 0;
  const eh = await startLocalEventHubs({
    hubs: [{ name: 'demo', partitionCount: 4 }],
    port: 0,
    now: () => Date.now() + offset,
  });
  const azurite = await spawnAzurite();
  const lake = await azurite.container('lake');
  await azurite.container('lake-checkpoints');
  const layout = { prefix: 'lake', template: PATH_PRESETS.hive, namespace: '', hub: 'demo', topic: 'demo' };
  // The first window ends at the next hour, reached by the server's clock after a warm-up.
  let end = Math.ceil(Date.now() / hour) * hour + hour;
  offset = end - 2 * LEAD_MS - Date.now();
  const traffic = startSampleTraffic({
    connectionString: eh.connectionString('demo'),
    hub: 'demo',
    eventsPerSecond: RATE,
  });
  const agent = startAgent({
    topic: 'demo',
    source: {
      fullyQualifiedNamespace: `127.0.0.1:${eh.port}`,
      eventHubName: 'demo',
      auth: { kind: 'connectionString', connectionString: eh.connectionString('demo') },
    },
    destination: {
      kind: 'azureBlob',
      account: { kind: 'connectionString', connectionString: azurite.connectionString },
      container: 'lake',
      checkpointContainer: 'lake-checkpoints',
      prefix: 'lake',
    },
    pathTemplate: PATH_PRESETS.hive,
    batching: { maxAgeSeconds: MAX_AGE_SECONDS },
    reporting: { intervalSeconds: REPORT_SECONDS },
  });
  const latenciesMs: number[] = [];
  const loads: number[] = [];
  try {
    for (let w = 0; w < windows; w++) {
      const marker = lake.getBlobClient(markerPath(layout, end - hour)!);
      const realEnd = end - offset;
      while (Date.now() < realEnd + GIVE_UP_MS && !(await marker.exists())) await sleep(POLL_MS);
      if (Date.now() >= realEnd + GIVE_UP_MS) {
        process.stderr.write(
          `${agent.lines.slice(-20).join('\n')}\nno marker for the window ending ${new Date(end).toISOString()}\n`,
        );
        continue;
      }
      latenciesMs.push(Date.now() - realEnd);
      loads.push(loadavg()[0]!);
      process.stderr.write(`window ending ${new Date(end).toISOString()}: ${latenciesMs.at(-1)} ms\n`);
      end += hour;
      offset = end - LEAD_MS - Date.now();
    }
  } finally {
    await traffic.stop();
    agent.kill('SIGTERM');
    await agent.exited;
  }
  const report = await verify(new BlobStore(lake), { prefix: 'lake', template: PATH_PRESETS.hive });
  await azurite.close();
  await eh.close();
  return {
    windows,
    latenciesMs,
    targetMs: (MAX_AGE_SECONDS + REPORT_SECONDS) * 1000,
    rate: RATE,
    partitions: 4,
    loads,
    verifyOk: report.ok,
    marked: report.markers.filter((m) => m.state === 'marked').length,
  };
}

if (import.meta.main) {
  const result = await main();
  console.log(JSON.stringify(result));
  process.stderr.write(markerSection(result));
  process.exit(0);
}
