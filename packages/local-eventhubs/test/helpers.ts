import {
  EventHubConsumerClient,
  type EventPosition,
  type ReceivedEventData,
  type SubscribeOptions,
} from '@azure/event-hubs';

/** Fast retries so failing paths surface in milliseconds, not the SDK's default seconds. */
export const fastRetry = { maxRetries: 1, retryDelayInMs: 50, maxRetryDelayInMs: 100, timeoutInMs: 5000 };

export function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

/** Receives from one partition with the SDK until `count` events arrived (or fails after a timeout). */
export async function receiveFromPartition(
  connectionString: string,
  partitionId: string,
  startPosition: EventPosition,
  count: number,
  options: Partial<SubscribeOptions> & { consumerGroup?: string; settleMs?: number } = {},
): Promise<ReceivedEventData[]> {
  const client = new EventHubConsumerClient(options.consumerGroup ?? '$Default', connectionString, {
    retryOptions: fastRetry,
  });
  const events: ReceivedEventData[] = [];
  const errors: Error[] = [];
  const subscription = client.subscribe(
    partitionId,
    {
      processEvents: async (batch) => {
        events.push(...batch);
      },
      processError: async (err) => {
        errors.push(err);
      },
    },
    { startPosition, maxWaitTimeInSeconds: 0.2, maxBatchSize: 100, ...options },
  );
  try {
    await waitFor(() => events.length >= count || errors.length > 0, 10_000, `${count} events`);
    // Give a moment for any extra (unexpected) events to show up.
    await new Promise((r) => setTimeout(r, options.settleMs ?? 100));
  } finally {
    await subscription.close();
    await client.close();
  }
  if (errors.length > 0) throw errors[0];
  return events;
}
