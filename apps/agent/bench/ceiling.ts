/** (a) The ceiling: a bare SDK consumer that only counts events. argv: connectionString hub total */
import { EventHubConsumerClient, earliestEventPosition } from '@azure/event-hubs';
import { processUsage } from '../src/runtime/usage.ts';

const [connectionString, hub, totalArg, batchArg] = process.argv.slice(2);
const total = Number(totalArg);
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
      startPosition: earliestEventPosition,
      maxBatchSize: Number(batchArg ?? 2000),
      maxWaitTimeInSeconds: 1,
      prefetchCount: 6000,
      skipParsingBodyAsJson: true,
    },
  );
});
await done;
const seconds = (performance.now() - first) / 1000;
process.stdout.write(`${JSON.stringify({ ...processUsage(), events, bytes, seconds, files: 0 })}\n`);
await client.close();
process.exit(0);
