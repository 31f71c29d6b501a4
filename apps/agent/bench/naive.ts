/**
 * (c) The naive baseline, written the way the SDK samples do it: for every received batch, upload one
 * blob with the batch's bodies, then checkpoint. argv: ehConnectionString hub total storageConnectionString
 */
import { EventHubConsumerClient, earliestEventPosition } from '@azure/event-hubs';
import { BlobCheckpointStore } from '@azure/eventhubs-checkpointstore-blob';
import { BlobServiceClient } from '@azure/storage-blob';
import { processUsage } from '../src/runtime/usage.ts';

const [connectionString, hub, totalArg, storage] = process.argv.slice(2);
const total = Number(totalArg);
const service = BlobServiceClient.fromConnectionString(storage!);
const lake = service.getContainerClient('naive-lake');
const checkpoints = service.getContainerClient('naive-checkpoints');
await lake.createIfNotExists();
await checkpoints.createIfNotExists();
const client = new EventHubConsumerClient(
  '$Default',
  connectionString!,
  hub!,
  new BlobCheckpointStore(checkpoints),
);
let events = 0;
let bytes = 0;
let files = 0;
let first = 0;
const done = new Promise<void>((resolve) => {
  client.subscribe(
    {
      processEvents: async (batch, context) => {
        if (batch.length === 0) return;
        if (!first) first = performance.now();
        const body = Buffer.concat(batch.flatMap((e) => [e.body as Buffer, Buffer.from('\n')]));
        const name = `${context.partitionId}/${batch[0]!.sequenceNumber}.json`;
        await lake.getBlockBlobClient(name).upload(body, body.byteLength);
        await context.updateCheckpoint(batch[batch.length - 1]!);
        files++;
        events += batch.length;
        bytes += body.byteLength - batch.length;
        if (events >= total) resolve();
      },
      processError: async () => {},
    },
    {
      startPosition: earliestEventPosition,
      maxBatchSize: 100,
      maxWaitTimeInSeconds: 1,
      skipParsingBodyAsJson: true,
    },
  );
});
await done;
const seconds = (performance.now() - first) / 1000;
process.stdout.write(`${JSON.stringify({ ...processUsage(), events, bytes, seconds, files })}\n`);
await client.close();
process.exit(0);
