import { setTimeout as sleep } from 'node:timers/promises';
import { earliestEventPosition } from '@azure/event-hubs';
import { startLocalEventHubs } from '@hubcap/local-eventhubs';
import { describe, expect, it } from 'vitest';
import { produce } from '../../test/harness.ts';
import { localTopic } from '../../test/local-topic.ts';
import { stallingProxy } from '../../test/stalling-proxy.ts';
import { createReaderClient } from './event-hubs.ts';

const PREFETCH = 100;
const BODY_BYTES = 1024;

describe('link credit', () => {
  it('lets the SDK hold at most prefetchCount events per partition, however long the link idled', {
    timeout: 60_000,
  }, async () => {
    const eh = await startLocalEventHubs({ hubs: [{ name: 'credit', partitionCount: 1 }], port: 0 });
    // The bytes the service pushes to the agent, counted on the wire.
    const proxy = await stallingProxy({ host: '127.0.0.1', port: eh.port });
    const proxyPort = new URL(proxy.url).port;
    const connectionString = eh.connectionString('credit').replace(`:${eh.port};`, `:${proxyPort};`);
    const client = createReaderClient(
      localTopic('/unused', {
        source: {
          fullyQualifiedNamespace: `127.0.0.1:${proxyPort}`,
          eventHubName: 'credit',
          auth: { kind: 'connectionString', connectionString },
        },
      }),
      () => {
        throw new Error('no token credential here');
      },
    );
    let waiting!: () => void;
    const handlerWaits = new Promise<void>((resolve) => (waiting = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const subscription = client.subscribe(
      '0',
      {
        processEvents: async (events) => {
          if (events.length === 0) return;
          waiting();
          await released; // a writer that waits for storage
        },
        processError: async () => {},
      },
      {
        startPosition: earliestEventPosition,
        maxBatchSize: PREFETCH,
        prefetchCount: PREFETCH,
        maxWaitTimeInSeconds: 0.05,
        skipParsingBodyAsJson: true,
      },
    );
    try {
      await sleep(2000); // idle: about 40 empty receives, each of which tops the credit up
      await produce(eh.connectionString('credit'), 'credit', ['0'], 1);
      await handlerWaits;
      const before = proxy.served;
      await produce(eh.connectionString('credit'), 'credit', ['0'], 5000, { from: 1, bodyBytes: BODY_BYTES });
      await sleep(2000); // what the service may push meanwhile arrives
      // At most a prefetch of events (plus AMQP framing); unbounded credit lets ~4,000 (4 MB) in.
      expect(proxy.served - before).toBeLessThan(2 * PREFETCH * BODY_BYTES);
    } finally {
      release();
      await subscription.close();
      await client.close();
      await proxy.close();
      await eh.close();
    }
  });
});
