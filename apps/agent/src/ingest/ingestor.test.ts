import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import {
  type CheckpointStore,
  CloseReason,
  type EventHubConsumerClient,
  type PartitionContext,
  type ReceivedEventData,
  type SubscriptionEventHandlers,
} from '@azure/event-hubs';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localTopic } from '../../test/local-topic.ts';
import { UnwritableError } from '../formats/format.ts';
import type { FileFormat } from '../formats/index.ts';
import { createMetrics } from '../runtime/metrics.ts';
import { AgentStatus } from '../runtime/status.ts';
import { LocalFolderSink } from '../sink/local-folder-sink.ts';
import type { Sink } from '../sink/sink.ts';
import { Ingestor, MemoryPressureError } from './ingestor.ts';

/** A format whose writer refuses every file (as DuckDB would one row). */
const refusing: FileFormat = {
  extension: '.x',
  contentType: 'application/octet-stream',
  createStreams: () => [
    new Transform({
      writableObjectMode: true,
      transform: (_events, _, done) => done(),
      flush: (done) => done(new UnwritableError('Invalid Input Error: refused')),
    }),
  ],
};

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'hubcap-ingestor-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function setup(options: { sink?: Sink; memory?: { limit: number; resident: () => number } } = {}) {
  let handlers: SubscriptionEventHandlers | null = null;
  const client = {
    subscribe: (h: SubscriptionEventHandlers) => {
      handlers = h;
      return { close: async () => {}, isRunning: true };
    },
    getPartitionProperties: async () => ({ isEmpty: true }),
    close: async () => {},
  } as unknown as EventHubConsumerClient;
  const status = new AgentStatus();
  status.setCheck('source', true);
  status.setCheck('sink', true);
  const config = localTopic(root);
  const ingestor = new Ingestor({
    config,
    client,
    checkpointStore: {
      listOwnership: async () => [],
      listCheckpoints: async () => [],
      updateCheckpoint: async () => {},
    } as unknown as CheckpointStore,
    sink: options.sink ?? new LocalFolderSink(root),
    format: refusing,
    layout: { prefix: '', template: '{partition}', namespace: 'ns', hub: 'h', topic: 't', extension: '.x' },
    limits: { maxBytes: 1 << 20, maxEvents: 2, maxAgeMs: 60_000, boundary: 'none' },
    agentId: 'a',
    log: pino({ level: 'silent' }),
    metrics: createMetrics(),
    status,
    receive: { maxBatchSize: 10, maxWaitTimeInSeconds: 1, prefetchCount: 10 },
    ...(options.memory
      ? { memoryLimitBytes: options.memory.limit, residentBytes: options.memory.resident }
      : {}),
  });
  ingestor.start();
  const ctx = (partitionId: string) =>
    ({
      partitionId,
      fullyQualifiedNamespace: 'ns',
      eventHubName: 'h',
      consumerGroup: '$Default',
    }) as PartitionContext;
  const events = (from: number) =>
    [from, from + 1].map((sequenceNumber) => ({
      body: Buffer.from('{}'),
      sequenceNumber,
      offset: String(sequenceNumber),
      enqueuedTimeUtc: new Date(0),
    })) as unknown as ReceivedEventData[];
  /** Feeds the partition until its refused file is reported (the next batch then throws). */
  async function refuse(partitionId: string) {
    await handlers!.processInitialize!(ctx(partitionId));
    await handlers!.processEvents(events(0), ctx(partitionId));
    await expect(async () => {
      for (let i = 0; i < 50; i++) {
        await handlers!.processEvents([], ctx(partitionId));
        await new Promise((r) => setTimeout(r, 10));
      }
    }).rejects.toThrow(UnwritableError);
  }
  return { handlers: () => handlers!, ingestor, status, ctx, refuse, events };
}

describe('Ingestor: a refused file turns readiness false until the partition is past it, or gone', () => {
  it('reports the refused file and clears the alarm when the partition goes to another replica', async () => {
    const { handlers, ingestor, status, ctx, refuse } = setup();
    await refuse('0');
    expect(status.ready).toBe(false);
    expect(status.reasons.join()).toMatch(/encoding:0: .*refused file 0\/0-0{20}-0{19}1\.x/);
    expect(status.errors.take().map((e) => [e.kind, e.partitionId])).toEqual([['encoding', '0']]);
    await handlers().processClose!(CloseReason.OwnershipLost, ctx('0'));
    expect(status.ready).toBe(true);
    await ingestor.close();
  });

  it('leaves no alarm behind when it closes (a config switch builds another Ingestor on the same status)', async () => {
    const { ingestor, status, refuse } = setup();
    await refuse('1');
    expect(status.ready).toBe(false);
    await ingestor.close();
    expect(status.ready).toBe(true);
  });
});

/** Storage that never answers: the first batch of a partition waits on its replay probe for ever. */
function hungSink(): Sink {
  const never = () => new Promise<never>(() => {});
  return { ...new LocalFolderSink(root), list: never, verify: never } as unknown as Sink;
}

describe('Ingestor: memory guard', () => {
  const MiB = 2 ** 20;

  it('stops a reader whose batch waits while memory grows past 80 % of the limit', async () => {
    let resident = 100 * MiB;
    const { handlers, ingestor, ctx, events } = setup({
      sink: hungSink(),
      memory: { limit: 256 * MiB, resident: () => resident },
    });
    await handlers().processInitialize!(ctx('0'));
    const waiting = handlers().processEvents(events(0), ctx('0'));
    await new Promise((r) => setTimeout(r, 250)); // the guard notes the memory while the batch waits
    resident = 230 * MiB; // the SDK fills its queue
    await expect(waiting).rejects.toThrow(MemoryPressureError);
    await expect(waiting).rejects.toThrow(
      /partition 0: reading stopped at 230 MiB of a 256 MiB memory limit/,
    );
    await ingestor.close();
  });

  it('leaves a waiting reader alone while memory stays high but does not grow (pages V8 kept)', async () => {
    const { handlers, ingestor, ctx, events } = setup({
      sink: hungSink(),
      memory: { limit: 256 * MiB, resident: () => 240 * MiB },
    });
    await handlers().processInitialize!(ctx('0'));
    const outcome = Promise.race([
      handlers()
        .processEvents(events(0), ctx('0'))
        .then(
          () => 'accepted',
          () => 'stopped',
        ),
      new Promise((r) => setTimeout(() => r('still waiting'), 500)),
    ]);
    expect(await outcome).toBe('still waiting');
    await ingestor.close();
  });
});
