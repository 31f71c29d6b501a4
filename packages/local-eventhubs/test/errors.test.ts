import {
  EventHubConsumerClient,
  EventHubProducerClient,
  type EventPosition,
  earliestEventPosition,
} from '@azure/event-hubs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEventHubs, startLocalEventHubs } from '../src/index.ts';
import { fastRetry, receiveFromPartition, waitFor } from './helpers.ts';

async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return String((err as { code?: string }).code ?? (err as Error).name);
  }
  throw new Error('expected the operation to fail');
}

/** Subscribes and returns the code of the first error the SDK reports to processError. */
async function subscribeError(
  connectionString: string,
  consumerGroup: string,
  partitionId: string,
  startPosition: EventPosition,
): Promise<string> {
  const client = new EventHubConsumerClient(consumerGroup, connectionString, { retryOptions: fastRetry });
  const errors: Error[] = [];
  const sub = client.subscribe(
    partitionId,
    { processEvents: async () => {}, processError: async (err) => void errors.push(err) },
    { startPosition, maxWaitTimeInSeconds: 0.2 },
  );
  try {
    await waitFor(() => errors.length > 0, 10_000, 'an error');
  } finally {
    await sub.close();
    await client.close();
  }
  return String((errors[0] as { code?: string }).code ?? errors[0]!.name);
}

describe('errors the SDK sees are the ones the service gives', () => {
  let server: LocalEventHubs;
  let producer: EventHubProducerClient;

  beforeAll(async () => {
    server = await startLocalEventHubs({ hubs: [{ name: 'hub', partitionCount: 2 }] });
    producer = new EventHubProducerClient(server.connectionString('hub'), { retryOptions: fastRetry });
    await producer.sendBatch([{ body: 'one' }, { body: 'two' }], { partitionId: '0' });
  });

  afterAll(async () => {
    await producer?.close();
    await server?.close();
  });

  it('unknown hub: MessagingEntityNotFoundError for management, send and receive', async () => {
    const client = new EventHubProducerClient(server.connectionString('nope'), { retryOptions: fastRetry });
    expect(await errorCode(client.getEventHubProperties())).toBe('MessagingEntityNotFoundError');
    expect(await errorCode(client.sendBatch([{ body: 1 }]))).toBe('MessagingEntityNotFoundError');
    await client.close();
    expect(
      await subscribeError(server.connectionString('nope'), '$Default', '0', earliestEventPosition),
    ).toBe('MessagingEntityNotFoundError');
  });

  it('unknown partition: ArgumentOutOfRangeError', async () => {
    expect(await errorCode(producer.getPartitionProperties('7'))).toBe('ArgumentOutOfRangeError');
    expect(await errorCode(producer.sendBatch([{ body: 1 }], { partitionId: '7' }))).toBe(
      'ArgumentOutOfRangeError',
    );
    expect(await subscribeError(server.connectionString('hub'), '$Default', '7', earliestEventPosition)).toBe(
      'ArgumentOutOfRangeError',
    );
  });

  it('unknown consumer group: MessagingEntityNotFoundError', async () => {
    expect(
      await subscribeError(server.connectionString('hub'), 'missing-group', '0', earliestEventPosition),
    ).toBe('MessagingEntityNotFoundError');
  });

  it('oversized message: MessageTooLargeError, and the link keeps working', async () => {
    const big = Buffer.alloc(1024 * 1024 + 10, 1);
    expect(await errorCode(producer.sendBatch([{ body: big }], { partitionId: '1' }))).toBe(
      'MessageTooLargeError',
    );
    await producer.sendBatch([{ body: 'small' }], { partitionId: '1' });
    expect((await producer.getPartitionProperties('1')).lastEnqueuedSequenceNumber).toBe(0);
  });

  it('malformed filter: ArgumentError; a position past the end: ArgumentOutOfRangeError', async () => {
    const cs = server.connectionString('hub');
    expect(await subscribeError(cs, '$Default', '0', { enqueuedOn: new Date(Number.NaN) })).toBe(
      'ArgumentError',
    );
    expect(await subscribeError(cs, '$Default', '0', { offset: 'garbage' })).toBe('ArgumentError');
    expect(await subscribeError(cs, '$Default', '0', { sequenceNumber: 500 })).toBe(
      'ArgumentOutOfRangeError',
    );
  });

  it('wrong key: the put-token is refused with 401 and the SDK raises UnauthorizedError', async () => {
    const wrong = server.connectionString('hub').replace(/SharedAccessKey=[^;]+/, 'SharedAccessKey=d3Jvbmc=');
    const client = new EventHubProducerClient(wrong, { retryOptions: { ...fastRetry, maxRetries: 0 } });
    expect(await errorCode(client.getEventHubProperties())).toBe('UnauthorizedError');
    expect(await errorCode(client.sendBatch([{ body: 1 }]))).toBe('UnauthorizedError');
    await client.close();
    const wrongName = server
      .connectionString('hub')
      .replace('SharedAccessKeyName=RootManageSharedAccessKey', 'SharedAccessKeyName=Other');
    const other = new EventHubProducerClient(wrongName, { retryOptions: { ...fastRetry, maxRetries: 0 } });
    expect(await errorCode(other.getEventHubProperties())).toBe('UnauthorizedError');
    await other.close();
  });

  it('a higher owner level takes a partition over; a lower one is refused (ReceiverDisconnectedError)', async () => {
    const cs = server.connectionString('hub');
    const low = new EventHubConsumerClient('$Default', cs, { retryOptions: fastRetry });
    const high = new EventHubConsumerClient('$Default', cs, { retryOptions: fastRetry });
    const lowErrors: Error[] = [];
    let lowReady = false;
    let highEvents = 0;
    const lowSub = low.subscribe(
      '0',
      {
        processEvents: async () => {
          lowReady = true;
        },
        processError: async (err) => void lowErrors.push(err),
      },
      { startPosition: earliestEventPosition, ownerLevel: 1, maxWaitTimeInSeconds: 0.1 },
    );
    await waitFor(() => lowReady, 5000, 'first receiver');
    const highSub = high.subscribe(
      '0',
      {
        processEvents: async (b) => {
          highEvents += b.length;
        },
        processError: async () => {},
      },
      { startPosition: earliestEventPosition, ownerLevel: 2, maxWaitTimeInSeconds: 0.1 },
    );
    await waitFor(() => lowErrors.length > 0, 5000, 'the first receiver to be disconnected');
    expect((lowErrors[0] as { code?: string }).code).toBe('ReceiverDisconnectedError');
    await waitFor(() => highEvents >= 2, 5000, 'the new owner to receive');
    expect(await subscribeOwnerLevel(cs, 1)).toBe('ReceiverDisconnectedError');
    await Promise.all([lowSub.close(), highSub.close()]);
    await Promise.all([low.close(), high.close()]);
  });

  it('keeps serving other clients after all of the above', async () => {
    const events = await receiveFromPartition(server.connectionString('hub'), '0', earliestEventPosition, 2);
    expect(events.map((e) => e.body)).toEqual(['one', 'two']);
  });
});

async function subscribeOwnerLevel(connectionString: string, ownerLevel: number): Promise<string> {
  const client = new EventHubConsumerClient('$Default', connectionString, { retryOptions: fastRetry });
  const errors: Error[] = [];
  const sub = client.subscribe(
    '0',
    { processEvents: async () => {}, processError: async (err) => void errors.push(err) },
    { startPosition: earliestEventPosition, ownerLevel, maxWaitTimeInSeconds: 0.1 },
  );
  try {
    await waitFor(() => errors.length > 0, 5000, 'refusal');
  } finally {
    await sub.close();
    await client.close();
  }
  return String((errors[0] as { code?: string }).code);
}
