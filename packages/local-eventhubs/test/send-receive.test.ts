import {
  EventHubConsumerClient,
  EventHubProducerClient,
  earliestEventPosition,
  latestEventPosition,
  type ReceivedEventData,
} from '@azure/event-hubs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEventHubs, startLocalEventHubs } from '../src/index.ts';
import { fastRetry, receiveFromPartition, waitFor } from './helpers.ts';

describe('sending and receiving with the official SDK', () => {
  let server: LocalEventHubs;
  let producer: EventHubProducerClient;

  beforeAll(async () => {
    server = await startLocalEventHubs({
      hubs: [
        { name: 'orders', partitionCount: 4, consumerGroups: ['audit'] },
        { name: 'other', partitionCount: 2 },
      ],
    });
    producer = new EventHubProducerClient(server.connectionString('orders'), { retryOptions: fastRetry });
  });

  afterAll(async () => {
    await producer?.close();
    await server?.close();
  });

  it('reports hub and partition properties', async () => {
    const hub = await producer.getEventHubProperties();
    expect(hub.name).toBe('orders');
    expect(hub.partitionIds).toEqual(['0', '1', '2', '3']);
    expect(hub.createdOn).toBeInstanceOf(Date);
    const empty = await producer.getPartitionProperties('3');
    expect(empty).toMatchObject({
      eventHubName: 'orders',
      partitionId: '3',
      isEmpty: true,
      lastEnqueuedSequenceNumber: -1,
    });
    const other = new EventHubProducerClient(server.connectionString(), 'other');
    expect((await other.getEventHubProperties()).partitionIds).toEqual(['0', '1']);
    await other.close();
  });

  it('advertises the 1 MB Standard-tier message size, so batches are sized as in Azure', async () => {
    const batch = await producer.createBatch();
    expect(batch.maxSizeInBytes).toBe(1024 * 1024);
  });

  it('sends a batch to a partition and receives it from earliest with matching numbers', async () => {
    const batch = await producer.createBatch({ partitionId: '1' });
    for (let i = 0; i < 5; i++) {
      expect(
        batch.tryAdd({
          body: { n: i },
          properties: { kind: 'order', n: i },
          contentType: 'application/json',
        }),
      ).toBe(true);
    }
    await producer.sendBatch(batch);
    const props = await producer.getPartitionProperties('1');
    expect(props.isEmpty).toBe(false);
    expect(props.beginningSequenceNumber).toBe(0);
    expect(props.lastEnqueuedSequenceNumber).toBe(4);

    const events = await receiveFromPartition(
      server.connectionString('orders'),
      '1',
      earliestEventPosition,
      5,
    );
    expect(events.map((e) => e.body)).toEqual([0, 1, 2, 3, 4].map((n) => ({ n })));
    expect(events.map((e) => e.sequenceNumber)).toEqual([0, 1, 2, 3, 4]);
    expect(events.map((e) => e.properties)).toEqual([0, 1, 2, 3, 4].map((n) => ({ kind: 'order', n })));
    expect(events[0]!.contentType).toBe('application/json');
    expect(events[0]!.offset).toBe('0');
    // Offsets are byte positions: strictly increasing strings, the last one reported by the partition.
    const offsets = events.map((e) => Number(e.offset));
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(new Set(offsets).size).toBe(5);
    expect(events[4]!.offset).toBe(props.lastEnqueuedOffset);
    expect(events[4]!.enqueuedTimeUtc.getTime()).toBe(props.lastEnqueuedOnUtc.getTime());
  });

  it('sends with a partition key: all events land in one partition and carry the key', async () => {
    await producer.sendBatch([{ body: 'a' }, { body: 'b' }], { partitionKey: 'customer-42' });
    await producer.sendBatch([{ body: 'c' }], { partitionKey: 'customer-42' });
    const owners: { id: string; count: number }[] = [];
    for (const id of ['0', '2', '3']) {
      const p = await producer.getPartitionProperties(id);
      owners.push({ id, count: p.lastEnqueuedSequenceNumber + 1 });
    }
    const owner = owners.filter((o) => o.count > 0);
    expect(owner).toHaveLength(1);
    const events = await receiveFromPartition(
      server.connectionString('orders'),
      owner[0]!.id,
      earliestEventPosition,
      3,
    );
    expect(events.map((e) => e.body)).toEqual(['a', 'b', 'c']);
    expect(events.every((e) => e.partitionKey === 'customer-42')).toBe(true);
  });

  it('sends to the hub and lets the server spread batches over partitions', async () => {
    const consumer = new EventHubConsumerClient('audit', server.connectionString('orders'));
    const before = await Promise.all(['0', '1', '2', '3'].map((id) => consumer.getPartitionProperties(id)));
    for (let i = 0; i < 20; i++) await producer.sendBatch([{ body: { hub: i } }]);
    const after = await Promise.all(['0', '1', '2', '3'].map((id) => consumer.getPartitionProperties(id)));
    const added = after.map((p, i) => p.lastEnqueuedSequenceNumber - before[i]!.lastEnqueuedSequenceNumber);
    expect(added.reduce((a, b) => a + b, 0)).toBe(20);
    expect(added.filter((n) => n > 0).length).toBeGreaterThan(1);
    await consumer.close();
  });

  it('starts from a sequence number, an offset (inclusive and not) and an enqueued time', async () => {
    const first = await producer.createBatch({ partitionId: '0' });
    const sendTen = async (from: number) => {
      const batch = await producer.createBatch({ partitionId: '0' });
      for (let i = from; i < from + 10; i++) batch.tryAdd({ body: { seq: i } });
      await producer.sendBatch(batch);
    };
    expect(first.count).toBe(0);
    const base = (await producer.getPartitionProperties('0')).lastEnqueuedSequenceNumber + 1;
    await sendTen(0);
    await new Promise((r) => setTimeout(r, 20));
    const middle = new Date();
    await new Promise((r) => setTimeout(r, 20));
    await sendTen(10);
    const cs = server.connectionString('orders');
    const all = await receiveFromPartition(cs, '0', earliestEventPosition, base + 20);
    const ours = all.slice(base);
    expect(ours.map((e) => (e.body as { seq: number }).seq)).toEqual([...Array(20).keys()]);

    const fromSeq = await receiveFromPartition(cs, '0', { sequenceNumber: base + 14 }, 5);
    expect(fromSeq.map((e) => e.sequenceNumber)).toEqual([15, 16, 17, 18, 19].map((n) => base + n));
    const fromSeqIncl = await receiveFromPartition(
      cs,
      '0',
      { sequenceNumber: base + 14, isInclusive: true },
      6,
    );
    expect(fromSeqIncl[0]!.sequenceNumber).toBe(base + 14);

    const pivot = ours[7]!;
    const fromOffset = await receiveFromPartition(cs, '0', { offset: pivot.offset }, 12);
    expect(fromOffset[0]!.sequenceNumber).toBe(pivot.sequenceNumber + 1);
    expect(fromOffset).toHaveLength(12);
    const fromOffsetIncl = await receiveFromPartition(
      cs,
      '0',
      { offset: pivot.offset, isInclusive: true },
      13,
    );
    expect(fromOffsetIncl[0]!.sequenceNumber).toBe(pivot.sequenceNumber);

    const fromTime = await receiveFromPartition(cs, '0', { enqueuedOn: middle }, 10);
    expect(fromTime.map((e) => (e.body as { seq: number }).seq)).toEqual(
      [...Array(10).keys()].map((n) => n + 10),
    );
  });

  it('starts from latest: only events sent after the receiver attached arrive', async () => {
    await producer.sendBatch([{ body: 'old' }], { partitionId: '2' });
    const client = new EventHubConsumerClient('$Default', server.connectionString('orders'));
    const events: ReceivedEventData[] = [];
    let attached = false;
    const sub = client.subscribe(
      '2',
      {
        processEvents: async (batch) => {
          attached = true;
          events.push(...batch);
        },
        processError: async () => {},
      },
      { startPosition: latestEventPosition, maxWaitTimeInSeconds: 0.1 },
    );
    await waitFor(() => attached, 5000, 'receiver attached');
    await producer.sendBatch([{ body: 'new-1' }, { body: 'new-2' }], { partitionId: '2' });
    await waitFor(() => events.length >= 2, 5000, 'new events');
    await sub.close();
    await client.close();
    expect(events.map((e) => e.body)).toEqual(['new-1', 'new-2']);
  });

  it('reports last enqueued event properties (receiver runtime metrics)', async () => {
    await producer.sendBatch([{ body: 1 }, { body: 2 }, { body: 3 }], { partitionId: '3' });
    const props = await producer.getPartitionProperties('3');
    const client = new EventHubConsumerClient('$Default', server.connectionString('orders'));
    let last: { sequenceNumber?: number; offset?: string; enqueuedOn?: Date; retrievedOn?: Date } = {};
    let received = 0;
    const sub = client.subscribe(
      '3',
      {
        processEvents: async (batch, context) => {
          received += batch.length;
          last = { ...context.lastEnqueuedEventProperties };
        },
        processError: async () => {},
      },
      {
        startPosition: earliestEventPosition,
        trackLastEnqueuedEventProperties: true,
        maxBatchSize: 1,
        maxWaitTimeInSeconds: 0.1,
      },
    );
    await waitFor(() => received >= 3, 5000, 'events');
    await sub.close();
    await client.close();
    expect(last.sequenceNumber).toBe(props.lastEnqueuedSequenceNumber);
    expect(last.offset).toBe(props.lastEnqueuedOffset);
    expect(last.enqueuedOn?.getTime()).toBe(props.lastEnqueuedOnUtc.getTime());
    expect(last.retrievedOn).toBeInstanceOf(Date);
  });

  it('keeps bodies as bytes with skipParsingBodyAsJson', async () => {
    const raw = Buffer.from('not json at all');
    await producer.sendBatch([{ body: raw }], { partitionId: '3' });
    const props = await producer.getPartitionProperties('3');
    const [event] = await receiveFromPartition(
      server.connectionString('orders'),
      '3',
      { sequenceNumber: props.lastEnqueuedSequenceNumber, isInclusive: true },
      1,
      { skipParsingBodyAsJson: true },
    );
    expect(Buffer.isBuffer(event!.body)).toBe(true);
    expect((event!.body as Buffer).toString()).toBe('not json at all');
  });
});
