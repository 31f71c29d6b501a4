/**
 * (a) The ceiling: a bare SDK consumer that only counts events.
 * argv: connectionString hub total [batch] — flat out from the start of the hub until `total` events;
 * or connectionString hub window:<warmupSeconds>:<seconds> — from the end of the hub, CPU over a window
 * after a warm-up (at the rate a producer sets).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { EventHubConsumerClient, earliestEventPosition, latestEventPosition } from '@azure/event-hubs';
import { processUsage } from '../src/runtime/usage.ts';

const [connectionString, hub, totalArg, batchArg] = process.argv.slice(2);
const window = /^window:(\d+):(\d+)$/.exec(totalArg!);
const total = window ? Number.POSITIVE_INFINITY : Number(totalArg);
const client = new EventHubConsumerClient('$Default', connectionString!, hub!);
let events = 0;
let bytes = 0;
let first = 0;
const done = new Promise<void>((resolve) => {
  client.subscribe(
    {
      processEvents: async (batch) => {
        if (!first && batch.length) first = performance.now();
        events += batch.length;
        for (const e of batch) bytes += (e.body as Buffer).byteLength;
        if (events >= total) resolve();
      },
      processError: async () => {},
    },
    {
      startPosition: window ? latestEventPosition : earliestEventPosition,
      maxBatchSize: Number(batchArg ?? 2000),
      maxWaitTimeInSeconds: 1,
      prefetchCount: 6000,
      skipParsingBodyAsJson: true,
    },
  );
});
if (window) {
  await sleep(Number(window[1]) * 1000);
  const from = { ...processUsage(), events, bytes, at: performance.now() };
  await sleep(Number(window[2]) * 1000);
  const to = processUsage();
  process.stdout.write(
    `${JSON.stringify({
      cpuSeconds: to.cpuSeconds - from.cpuSeconds,
      maxRssBytes: to.maxRssBytes,
      events: events - from.events,
      bytes: bytes - from.bytes,
      seconds: (performance.now() - from.at) / 1000,
    })}\n`,
  );
} else {
  await done;
  const seconds = (performance.now() - first) / 1000;
  process.stdout.write(`${JSON.stringify({ ...processUsage(), events, bytes, seconds, files: 0 })}\n`);
}
await client.close();
process.exit(0);
