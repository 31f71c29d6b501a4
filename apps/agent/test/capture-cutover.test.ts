import { EventHubConsumerClient, type ReceivedEventData } from '@azure/event-hubs';
import type { ContainerClient } from '@azure/storage-blob';
import {
  BlobStore,
  type CaptureSource,
  capturePlan,
  continuityReport,
  seedCheckpoints,
  verify,
} from '@hubcap/lake';
import { continuityRows } from '@hubcap/lake/test/capture-files';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import { startLocalEventHubs } from '@hubcap/local-eventhubs';
import { DEFAULT_CAPTURE_PATH_FORMAT, PATH_PRESETS } from '@hubcap/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AvroContainerEncoder } from '../src/formats/avro/avro.ts';
import { checkLake, expectedIds, produce, startAgent } from './harness.ts';

let eh: Awaited<ReturnType<typeof startLocalEventHubs>>;
let azurite: Azurite;
beforeAll(async () => {
  eh = await startLocalEventHubs({
    hubs: [{ name: 'orders', partitionCount: 2, consumerGroups: ['capture', 'hubcap'] }],
    port: 0,
  });
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.close();
  await eh?.close();
});

const partitions = ['0', '1'];

/** Events `from..to` of a partition, read back from the hub as Capture reads them. */
async function readHub(partitionId: string, from: number, to: number): Promise<ReceivedEventData[]> {
  const client = new EventHubConsumerClient('capture', eh.connectionString('orders'), 'orders');
  const events: ReceivedEventData[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const subscription = client.subscribe(
        partitionId,
        {
          processEvents: async (batch) => {
            events.push(...batch.filter((e) => e.sequenceNumber <= to));
            if (events.length >= to - from + 1) void subscription.close().then(resolve);
          },
          processError: async (error) => reject(error),
        },
        {
          startPosition: { sequenceNumber: from, isInclusive: true },
          skipParsingBodyAsJson: true,
          maxWaitTimeInSeconds: 1,
        },
      );
    });
  } finally {
    await client.close();
  }
  return events;
}

/** What Capture would write for a window: Capture's schema and layout, by the agent's own Avro writer. */
async function captureWindow(
  container: ContainerClient,
  partitionId: string,
  minute: number,
  events: ReceivedEventData[],
) {
  const encoder = new AvroContainerEncoder({ codec: 'deflate', blockBytes: 4096 });
  const chunks: Buffer[] = [];
  encoder.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => encoder.on('end', resolve));
  if (events.length > 0) encoder.write(events);
  encoder.end();
  await done;
  const name = `127.0.0.1/orders/${partitionId}/2026/03/07/09/${String(minute).padStart(2, '0')}/00.avro`;
  await container.getBlockBlobClient(name).uploadData(Buffer.concat(chunks));
}

async function waitForLake(lake: ContainerClient, expected: string[]) {
  let check = await checkLake(lake, expected);
  for (let i = 0; i < 80 && check.missing.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 500));
    check = await checkLake(lake, expected);
  }
  return check;
}

/** The topic's config: the agents and the gap fill of a rollback run from it. */
const topicConfig = () => ({
  topic: 'orders',
  source: {
    fullyQualifiedNamespace: `127.0.0.1:${eh.port}`,
    eventHubName: 'orders',
    consumerGroup: 'hubcap',
    auth: { kind: 'connectionString' as const, connectionString: eh.connectionString('orders') },
    startPosition: 'earliest' as const,
  },
  destination: {
    kind: 'azureBlob' as const,
    account: { kind: 'connectionString' as const, connectionString: azurite.connectionString },
    container: 'orders-lake',
    checkpointContainer: 'orders-checkpoints',
  },
  batching: { maxAgeSeconds: 1 },
});

describe('cutover from Event Hubs Capture', () => {
  it('lands exactly what Capture did not, proves continuity, and after a rollback to Capture fills the gap to a continuous report', {
    timeout: 120_000,
  }, async () => {
    const capture = await azurite.container('capture');
    const lake = await azurite.container('orders-lake');
    const checkpoints = await azurite.container('orders-checkpoints');
    await produce(eh.connectionString('orders'), 'orders', partitions, 100);
    // Capture landed 0–59 of every partition in two windows, then an empty one; then it was disabled.
    for (const p of partitions) {
      await captureWindow(capture, p, 0, await readHub(p, 0, 39));
      await captureWindow(capture, p, 5, await readHub(p, 40, 59));
      await captureWindow(capture, p, 10, []);
    }
    const source: CaptureSource = {
      container: capture,
      pathFormat: DEFAULT_CAPTURE_PATH_FORMAT,
      namespace: '127.0.0.1',
      hub: 'orders',
    };
    const plan = await capturePlan(source, partitions);
    expect(plan.fileProblems).toEqual([]);
    expect(
      plan.partitions.map((p) => [p.partitionId, p.captureLast?.sequenceNumber, p.hubcapFirst, p.problem]),
    ).toEqual([
      ['0', 59, 60, null],
      ['1', 59, 60, null],
    ]);
    await seedCheckpoints(
      checkpoints,
      {
        topic: 'orders',
        fullyQualifiedNamespace: '127.0.0.1',
        eventHubName: 'orders',
        consumerGroup: 'hubcap',
      },
      plan.partitions.map((p) => ({
        partitionId: p.partitionId,
        ...p.captureLast!,
        offset: p.captureLast!.offset!,
      })),
    );

    const agent = startAgent(topicConfig());
    try {
      await produce(eh.connectionString('orders'), 'orders', partitions, 50, { from: 100 });
      const check = await waitForLake(lake, expectedIds(partitions, 90, 60));
      if (check.missing.length > 0) console.error(agent.lines.slice(-20).join('\n'));
      // Hubcap landed 60–149 exactly once and nothing Capture had; with Capture's files, 0–149 exactly once.
      expect({ ...check, files: undefined }).toEqual({
        files: undefined,
        events: 180,
        missing: [],
        duplicated: [],
        unexpected: [],
      });
      expect({ ...(await checkLake(capture, expectedIds(partitions, 60))), files: undefined }).toMatchObject({
        events: 120,
        missing: [],
        duplicated: [],
        unexpected: [],
      });
    } finally {
      agent.kill('SIGTERM');
      await agent.exited;
    }
    const landing = { container: lake, prefix: '' };
    const report = await continuityReport(source, landing, 'toHubcap', partitions);
    expect(continuityRows(report)).toEqual([
      ['0', 59, 60, { state: 'continuous' }],
      ['1', 59, 60, { state: 'continuous' }],
    ]);
    // `hubcap verify` across both: per partition Capture's files (0–59, read from their records), then
    // Hubcap's (the agent's default template), with no gap and no overlap.
    const both = await verify(new BlobStore(lake), {
      prefix: '',
      template: PATH_PRESETS.hive,
      capture: { ...source, store: new BlobStore(capture) },
    });
    expect(both.cells.flatMap((c) => c.problems)).toEqual([]);
    expect(
      both.cells.filter((c) => c.source === 'capture').map((c) => [c.partition, c.sequences, c.events]),
    ).toEqual(partitions.map((p) => [p, { firstSequence: 0, lastSequence: 59 }, 60]));
    expect(both.ok).toBe(true);

    // Rollback: the agents are stopped (drained); Hubcap's last is 149. Capture, enabled again, starts
    // with the next event on partition 1, but only at 155 on partition 0: 150–154 is landed by neither.
    await produce(eh.connectionString('orders'), 'orders', partitions, 20, { from: 150 });
    await captureWindow(capture, '0', 30, await readHub('0', 155, 169));
    await captureWindow(capture, '1', 30, await readHub('1', 150, 169));
    const gap = await continuityReport(source, landing, 'toCapture', partitions);
    expect(continuityRows(gap)).toEqual([
      ['0', 149, 155, { state: 'gap', from: 150, to: 154 }],
      ['1', 149, 150, { state: 'continuous' }],
    ]);
    // Filling it: a replay bounded by sequence into the topic's own layout, of partition 0 only.
    const now = Date.now();
    const fill = startAgent(topicConfig(), {
      HUBCAP_REPLAY: JSON.stringify({
        id: 'gap1',
        from: new Date(now - 3600_000).toISOString(),
        to: new Date(now).toISOString(),
        startSequences: { '0': 150 },
        endSequences: { '0': 154 },
        target: { kind: 'ownLayout' },
      }),
    });
    expect(await fill.exited, fill.lines.slice(-20).join('\n')).toBe(0);
    const back = await continuityReport(source, landing, 'toCapture', partitions);
    expect(continuityRows(back)).toEqual([
      ['0', 154, 155, { state: 'continuous' }],
      ['1', 149, 150, { state: 'continuous' }],
    ]);
    // Hubcap's files hold 60–154 and 60–149, each once: nothing Capture has again, nothing missing.
    expect({
      ...(await checkLake(lake, [...expectedIds(['0'], 95, 60), ...expectedIds(['1'], 90, 60)])),
      files: undefined,
    }).toEqual({ files: undefined, events: 185, missing: [], duplicated: [], unexpected: [] });
  });
});
