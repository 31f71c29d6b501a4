// A bare SDK consumer: subscribes to every partition from earliest and only counts events.
import { EventHubConsumerClient, earliestEventPosition } from '@azure/event-hubs';

const [connectionString, totalText, batchText] = process.argv.slice(2);
const total = Number(totalText);
const maxBatchSize = Number(batchText ?? '1000');
const client = new EventHubConsumerClient('$Default', connectionString!);
let count = 0;
let bytes = 0;
let started = 0;
const cpuBefore = process.cpuUsage();
const finished = Promise.withResolvers<void>();
const subscription = client.subscribe(
  {
    processEvents: async (events) => {
      if (started === 0 && events.length > 0) started = performance.now();
      count += events.length;
      for (const e of events) bytes += (e.body as Buffer).length;
      if (count >= total) finished.resolve();
    },
    processError: async (err) => {
      process.stderr.write(`consumer error: ${String(err)}\n`);
    },
  },
  {
    startPosition: earliestEventPosition,
    maxBatchSize,
    maxWaitTimeInSeconds: 1,
    skipParsingBodyAsJson: true,
  },
);
await finished.promise;
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
await subscription.close();
await client.close();
process.send?.({ type: 'done', count, bytes, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
process.exit(0);
