import { BlobCheckpointStore } from '@azure/eventhubs-checkpointstore-blob';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import { startLocalEventHubs } from '@hubcap/local-eventhubs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicCheckpointStore } from '../src/checkpoint/topic-checkpoint-store.ts';
import { checkLake, expectedIds, produce, startAgent } from './harness.ts';

let eh: Awaited<ReturnType<typeof startLocalEventHubs>>;
let azurite: Azurite;
beforeAll(async () => {
  eh = await startLocalEventHubs({
    hubs: [{ name: 'shared', partitionCount: 4, consumerGroups: ['orders-agent', 'audit-agent'] }],
    port: 0,
  });
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.close();
  await eh?.close();
});

const ns = 'ns.servicebus.windows.net';
const ownership = (ownerId: string, partitionId: string) => ({
  fullyQualifiedNamespace: ns,
  eventHubName: 'hub',
  consumerGroup: '$Default',
  ownerId,
  partitionId,
});

describe('a topic checkpoint store', () => {
  it('never shows or yields one topic’s ownership and checkpoints to another in the same container and group', async () => {
    const container = await azurite.container();
    const orders = new TopicCheckpointStore(new BlobCheckpointStore(container), 'orders');
    const audit = new TopicCheckpointStore(new BlobCheckpointStore(container), 'audit');

    const claimed = await orders.claimOwnership([ownership('orders-1', '0'), ownership('orders-1', '3')]);
    expect(claimed.map((o) => [o.partitionId, o.fullyQualifiedNamespace])).toEqual([
      ['0', ns],
      ['3', ns],
    ]);
    await orders.updateCheckpoint({ ...ownership('', '0'), sequenceNumber: 16612, offset: '16612' });

    expect(await audit.listOwnership(ns, 'hub', '$Default')).toEqual([]);
    expect(await audit.listCheckpoints(ns, 'hub', '$Default')).toEqual([]);
    // The other topic claims the same partitions without an ETag conflict: they are its own blobs.
    expect(await audit.claimOwnership([ownership('audit-1', '0')])).toHaveLength(1);
    expect((await orders.listOwnership(ns, 'hub', '$Default')).map((o) => o.ownerId)).toEqual([
      'orders-1',
      'orders-1',
    ]);
    expect(await orders.listCheckpoints(ns, 'hub', '$Default')).toMatchObject([
      { partitionId: '0', sequenceNumber: 16612, fullyQualifiedNamespace: ns },
    ]);

    const names: string[] = [];
    for await (const b of container.listBlobsFlat()) names.push(b.name);
    expect(names.sort()).toEqual([
      `topics/audit/${ns}/hub/$default/ownership/0`,
      `topics/orders/${ns}/hub/$default/checkpoint/0`,
      `topics/orders/${ns}/hub/$default/ownership/0`,
      `topics/orders/${ns}/hub/$default/ownership/3`,
    ]);
  });

  it('resumes from a checkpoint of the old shared layout until the topic checkpoints that partition itself', async () => {
    const container = await azurite.container();
    const legacy = new BlobCheckpointStore(container);
    await legacy.updateCheckpoint({ ...ownership('', '0'), sequenceNumber: 10, offset: '10' });
    await legacy.updateCheckpoint({ ...ownership('', '1'), sequenceNumber: 20, offset: '20' });
    await legacy.claimOwnership([ownership('old-agent', '0')]);
    const store = new TopicCheckpointStore(new BlobCheckpointStore(container), 'orders');
    await store.updateCheckpoint({ ...ownership('', '1'), sequenceNumber: 25, offset: '25' });

    const checkpoints = await store.listCheckpoints(ns, 'hub', '$Default');
    expect(checkpoints.map((c) => [c.partitionId, c.sequenceNumber]).sort()).toEqual([
      ['0', 10],
      ['1', 25],
    ]);
    expect(await store.listOwnership(ns, 'hub', '$Default')).toEqual([]);
  });
});

describe('two topics on one hub', () => {
  it('each get every event exactly once when they read with their own consumer groups, sharing a checkpoint container', {
    timeout: 90_000,
  }, async () => {
    const partitions = ['0', '1', '2', '3'];
    const agentFor = (topic: string, consumerGroup: string) =>
      startAgent({
        topic,
        source: {
          fullyQualifiedNamespace: `127.0.0.1:${eh.port}`,
          eventHubName: 'shared',
          consumerGroup,
          auth: { kind: 'connectionString', connectionString: eh.connectionString('shared') },
        },
        destination: {
          kind: 'azureBlob',
          account: { kind: 'connectionString', connectionString: azurite.connectionString },
          container: `${topic}-lake`,
          checkpointContainer: 'shared-checkpoints',
        },
        batching: { maxAgeSeconds: 1 },
      });
    for (const name of ['orders-lake', 'audit-lake', 'shared-checkpoints']) await azurite.container(name);
    await produce(eh.connectionString('shared'), 'shared', partitions, 200);
    const agents = [agentFor('orders', 'orders-agent'), agentFor('audit', 'audit-agent')];
    try {
      await produce(eh.connectionString('shared'), 'shared', partitions, 200, { from: 200 });
      const expected = expectedIds(partitions, 400);
      for (const topic of ['orders', 'audit']) {
        const lake = await azurite.container(`${topic}-lake`);
        let check = await checkLake(lake, expected);
        for (let i = 0; i < 60 && check.missing.length > 0; i++) {
          await new Promise((r) => setTimeout(r, 500));
          check = await checkLake(lake, expected);
        }
        if (check.missing.length > 0) console.error(agents.flatMap((a) => a.lines.slice(-10)).join('\n'));
        expect({ topic, ...check, files: undefined }).toEqual({
          topic,
          files: undefined,
          events: 1600,
          missing: [],
          duplicated: [],
          unexpected: [],
        });
      }
    } finally {
      for (const agent of agents) agent.kill('SIGTERM');
      await Promise.all(agents.map((a) => a.exited));
    }
    const checkpoints = await azurite.container('shared-checkpoints');
    const owners = new Set<string>();
    for await (const b of checkpoints.listBlobsFlat({ prefix: 'topics/' })) owners.add(b.name.split('/')[1]!);
    expect([...owners].sort()).toEqual(['audit', 'orders']);
  });
});
