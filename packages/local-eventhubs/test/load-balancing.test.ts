import {
  EventHubConsumerClient,
  EventHubProducerClient,
  earliestEventPosition,
  type Subscription,
} from '@azure/event-hubs';
import { BlobCheckpointStore } from '@azure/eventhubs-checkpointstore-blob';
import { ContainerClient } from '@azure/storage-blob';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEventHubs, startLocalEventHubs } from '../src/index.ts';
import { waitFor } from './helpers.ts';

const PARTITIONS = ['0', '1', '2', '3', '4', '5'];

interface Member {
  client: EventHubConsumerClient;
  subscription: Subscription;
  owned: Set<string>;
}

describe('EventHubConsumerClient load balancing with BlobCheckpointStore on Azurite', () => {
  let server: LocalEventHubs;
  let azurite: Azurite;
  let producer: EventHubProducerClient;
  let container: ContainerClient;
  /** "partition:sequence" → body, for every event any member processed. */
  const seen = new Map<string, number>();
  let duplicates = 0;

  beforeAll(async () => {
    [server, azurite] = await Promise.all([
      startLocalEventHubs({
        hubs: [{ name: 'lb', partitionCount: PARTITIONS.length, consumerGroups: ['agents'] }],
      }),
      startAzurite(),
    ]);
    producer = new EventHubProducerClient(server.connectionString('lb'));
    container = new ContainerClient(azurite.connectionString, 'checkpoints');
    await container.create();
  });

  afterAll(async () => {
    await producer?.close();
    await server?.close();
    await azurite?.close();
  });

  let next = 0;
  const sendRound = async () => {
    for (const partitionId of PARTITIONS) {
      const batch = await producer.createBatch({ partitionId });
      for (let i = 0; i < 5; i++) batch.tryAdd({ body: next++ });
      await producer.sendBatch(batch);
    }
  };

  const join = (sink?: (body: number) => void): Member => {
    const client = new EventHubConsumerClient(
      'agents',
      server.connectionString('lb'),
      new BlobCheckpointStore(container),
      {
        loadBalancingOptions: {
          strategy: 'balanced',
          updateIntervalInMs: 200,
          partitionOwnershipExpirationIntervalInMs: 2000,
        },
      },
    );
    const owned = new Set<string>();
    const subscription = client.subscribe(
      {
        processInitialize: async (ctx) => void owned.add(ctx.partitionId),
        processClose: async (_reason, ctx) => void owned.delete(ctx.partitionId),
        processEvents: async (events, ctx) => {
          for (const e of events) {
            const key = `${ctx.partitionId}:${e.sequenceNumber}`;
            if (seen.has(key)) duplicates++;
            seen.set(key, e.body as number);
            sink?.(e.body as number);
          }
          const last = events.at(-1);
          if (last) await ctx.updateCheckpoint(last);
        },
        processError: async () => {},
      },
      { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 0.2, maxBatchSize: 50 },
    );
    return { client, subscription, owned };
  };

  const ownedBy = (members: Member[]) => members.map((m) => [...m.owned].sort());

  it('splits partitions, takes over a stopped member, and resumes from checkpoints', async () => {
    await sendRound();
    const members = [join(), join(), join()];
    await waitFor(
      () => members.every((m) => m.owned.size === 2) && seen.size === next,
      20_000,
      'an even split and all events',
    );
    expect(new Set(ownedBy(members).flat()).size).toBe(6);

    // One member leaves: the other two take its partitions and continue from its checkpoints.
    const leaving = members.pop()!;
    await leaving.subscription.close();
    await leaving.client.close();
    await sendRound();
    await waitFor(
      () => members.every((m) => m.owned.size === 3) && seen.size === next,
      20_000,
      'takeover and all events',
    );
    expect(new Set(ownedBy(members).flat()).size).toBe(6);
    expect([...seen.values()].sort((a, b) => a - b)).toEqual([...Array(next).keys()]);

    // Everybody stops; a new member resumes where the checkpoints say, not from earliest.
    for (const m of members) {
      await m.subscription.close();
      await m.client.close();
    }
    const before = next;
    await sendRound();
    const resumedBodies: number[] = [];
    const resumed = join((body) => resumedBodies.push(body));
    await waitFor(() => resumedBodies.length >= next - before, 20_000, 'resumed events');
    await new Promise((r) => setTimeout(r, 300));
    await resumed.subscription.close();
    await resumed.client.close();
    expect(resumedBodies.sort((a, b) => a - b)).toEqual(
      [...Array(next - before).keys()].map((n) => n + before),
    );
    // At-least-once: a partition moving between members may replay a few events, never many.
    expect(duplicates).toBeLessThan(next / 4);
  }, 60_000);
});
