import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CheckpointStore,
  CloseReason,
  type EventHubConsumerClient,
  earliestEventPosition,
  latestEventPosition,
  type PartitionContext,
  type ReceivedEventData,
  type Subscription,
} from '@azure/event-hubs';
import type { TopicConfig } from '@hubcap/shared';
import { type Completeness, completenessFor, type PartitionSealer } from '../completeness/index.ts';
import { UnwritableError } from '../formats/format.ts';
import type { FileFormat } from '../formats/index.ts';
import type { PathLayout } from '../pipeline/paths.ts';
import type { SegmentLimits } from '../pipeline/segment-policy.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Metrics } from '../runtime/metrics.ts';
import { type AgentStatus, partitionLag } from '../runtime/status.ts';
import { retryStorage } from '../sink/retry.ts';
import type { Sink } from '../sink/sink.ts';
import type { FlushedFile, PartitionWriter } from './partition-writer.ts';
import type { Quarantine } from './quarantine.ts';
import { createPartitionWriter } from './writer-factory.ts';

export interface IngestorOptions {
  config: TopicConfig;
  client: EventHubConsumerClient;
  checkpointStore: CheckpointStore;
  sink: Sink;
  format: FileFormat;
  layout: PathLayout;
  limits: SegmentLimits;
  agentId: string;
  log: Logger;
  metrics: Metrics;
  status: AgentStatus;
  receive: { maxBatchSize: number; maxWaitTimeInSeconds: number; prefetchCount: number };
  pauseAfterCommitMs?: number;
  /** Every file once published and checkpointed (metrics, status and logs subscribe in agent.ts). */
  onFlushed?(file: FlushedFile): void;
  /** The memory the agent may use (`scaling.memory`): readers stop near it (see #guardMemory). */
  memoryLimitBytes?: number;
  /** The process's resident memory now (a test can pass its own). */
  residentBytes?: () => number;
}

const LAG_INTERVAL_MS = 5000;
/**
 * The SDK pulls events while a batch waits for its writer, as far as the link's credit allows, and
 * that credit is not bounded by `prefetchCount`: each receive adds up to `prefetchCount` more
 * (Azure/azure-sdk-for-js#39452), so it grows to hundreds of thousands of events per partition
 * while the agent keeps up. When storage stalls, all of them arrive and wait in memory. Above this
 * share of the memory limit, the readers whose batch waits while memory grows (by GUARD_GROWTH of the
 * limit since the guard first saw it waiting) stop: closing the link drops what the SDK holds, the
 * open segment is re-read from the checkpoint once its partition's earlier files are published
 * (nothing lost, nothing twice), and the new link starts with fresh credit. Growth, not the level:
 * V8 keeps the pages it freed, so a restarted reader must not be stopped again for memory it no
 * longer holds.
 */
const MEMORY_HIGH_WATER = 0.8;
const GUARD_GROWTH = 0.05;
const GUARD_INTERVAL_MS = 100;

/** A partition's reader stopped because memory neared the limit while its events waited. */
export class MemoryPressureError extends Error {
  constructor(partitionId: string, residentBytes: number, limitBytes: number) {
    super(
      `partition ${partitionId}: reading stopped at ${(residentBytes / 2 ** 20).toFixed(0)} MiB of a ${(limitBytes / 2 ** 20).toFixed(0)} MiB memory limit while events waited for storage; it resumes from the checkpoint`,
    );
    this.name = 'MemoryPressureError';
  }
}

/** Event Hubs errors that need an operator rather than a retry. */
function isFatalSourceError(error: Error & { code?: string }): boolean {
  return /Unauthorized|MessagingEntityNotFound|ResourceNotFound|InvalidSignature|ArgumentError/i.test(
    `${error.code ?? ''} ${error.name}`,
  );
}

/**
 * The source side: one EventHubConsumerClient subscription (the SDK balances partitions between
 * replicas through the checkpoint store) feeding one PartitionWriter per owned partition.
 */
export class Ingestor {
  readonly #o: IngestorOptions;
  readonly #writers = new Map<string, PartitionWriter>();
  /**
   * Writers being retired (the SDK restarts a partition's reader after an error): their ended files
   * finish publishing and checkpointing before the partition's next writer starts. A drain or close
   * waits for them too (or abandons them), so none outlives this Ingestor.
   */
  readonly #settling = new Map<string, { writer: PartitionWriter; settled: Promise<void> }>();
  /** Per partition, kept across its successive writers: a range being split to isolate a refused event. */
  readonly #quarantines = new Map<string, { current: Quarantine | null }>();
  /** Each writer's completeness sealer (a writer's successor gets its own). */
  readonly #sealers = new WeakMap<PartitionWriter, PartitionSealer>();
  #subscription: Subscription | null = null;
  #draining = false;
  #closed: Promise<void> | null = null;
  #lagTimer: NodeJS.Timeout | null = null;
  #guardTimer: NodeJS.Timeout | null = null;
  #refreshing = false;
  readonly #completeness: Completeness | null;
  /** Partitions whose batch waits for its writer: how to stop their reader, and the memory then. */
  readonly #waiting = new Map<string, { stop: (error: Error) => void; resident?: number }>();

  constructor(options: IngestorOptions) {
    this.#o = options;
    this.#completeness = completenessFor(options);
  }

  start(): void {
    const { client, config, receive } = this.#o;
    this.#subscription = client.subscribe(
      {
        processInitialize: (ctx) => this.#initialize(ctx),
        processEvents: (events, ctx) => this.#events(events, ctx),
        processError: (error, ctx) => this.#error(error, ctx),
        processClose: (reason, ctx) => this.#close(reason, ctx),
      },
      {
        startPosition: config.source.startPosition === 'latest' ? latestEventPosition : earliestEventPosition,
        maxBatchSize: receive.maxBatchSize,
        maxWaitTimeInSeconds: receive.maxWaitTimeInSeconds,
        prefetchCount: receive.prefetchCount,
        skipParsingBodyAsJson: true,
      },
    );
    this.#lagTimer = setInterval(() => void this.#refreshLag(), LAG_INTERVAL_MS);
    this.#lagTimer.unref();
    if (this.#o.memoryLimitBytes) {
      this.#guardTimer = setInterval(() => this.#guardMemory(), GUARD_INTERVAL_MS);
      this.#guardTimer.unref();
    }
  }

  async #initialize(ctx: PartitionContext): Promise<void> {
    const { partitionId } = ctx;
    await this.#settling.get(partitionId)?.settled;
    const { o, log } = { o: this.#o, log: this.#o.log.child({ partition: partitionId }) };
    const stats = o.status.partition(partitionId);
    stats.oldestPending = null;
    const where = {
      fullyQualifiedNamespace: ctx.fullyQualifiedNamespace,
      eventHubName: ctx.eventHubName,
      consumerGroup: ctx.consumerGroup,
    };
    // Lag counts from the checkpoint it resumes from until this replica writes its own.
    const checkpoints = await o.checkpointStore
      .listCheckpoints(where.fullyQualifiedNamespace, where.eventHubName, where.consumerGroup)
      .catch(() => []);
    stats.resumedFrom = checkpoints.find((c) => c.partitionId === partitionId)?.sequenceNumber ?? null;
    const owns = async (signal: AbortSignal) => {
      const owners = await retryStorage(
        'listOwnership',
        () =>
          o.checkpointStore.listOwnership(
            where.fullyQualifiedNamespace,
            where.eventHubName,
            where.consumerGroup,
          ),
        { signal },
      );
      return owners.some((x) => x.partitionId === partitionId && x.ownerId === o.agentId);
    };
    const sealer = this.#completeness?.partition(partitionId, stats.resumedFrom, owns, log);
    const writer = createPartitionWriter(
      { ...o, formatType: o.config.format.type },
      {
        where: { ...where, partitionId },
        log,
        quarantine: this.#quarantine(partitionId),
        owns,
        beforeCheckpoint: sealer && ((file, signal) => sealer.beforeCheckpoint(file, signal)),
      },
    );
    if (sealer) this.#sealers.set(writer, sealer);
    this.#writers.set(partitionId, writer);
    o.metrics.ownedPartitions.set(this.#writers.size);
    log.info('partition claimed; reading from its checkpoint');
  }

  async #events(events: ReceivedEventData[], ctx: PartitionContext): Promise<void> {
    const { partitionId } = ctx;
    const writer = this.#writers.get(partitionId);
    if (!writer || this.#draining) return;
    if (events.length > 0) {
      this.#o.status.clearFatal('source');
      let bytes = 0;
      for (const e of events) bytes += (e.body as Uint8Array | undefined)?.byteLength ?? 0;
      this.#o.metrics.eventsReceived.inc({ partition: partitionId }, events.length);
      this.#o.metrics.bytesReceived.inc({ partition: partitionId }, bytes);
    }
    try {
      await this.#accepted(partitionId, writer.write(events));
    } catch (error) {
      // The SDK restarts the partition's reader from its checkpoint. A refused file is already reported.
      if (error instanceof UnwritableError || error instanceof MemoryPressureError) throw error;
      this.#o.status.recordError('sink', (error as Error).message, true, partitionId);
      this.#o.metrics.errors.inc({ kind: 'sink' });
      throw error;
    }
  }

  /** The writer's acceptance of a batch, or the memory guard's stop, whichever comes first. */
  #accepted(partitionId: string, write: Promise<void>): Promise<void> {
    if (!this.#guardTimer) return write;
    write.catch(() => {}); // a stopped reader's batch is re-read; its writer is being retired
    const stopped = new Promise<never>((_, stop) => this.#waiting.set(partitionId, { stop }));
    return Promise.race([write, stopped]).finally(() => this.#waiting.delete(partitionId));
  }

  #guardMemory(): void {
    const limit = this.#o.memoryLimitBytes!;
    if (this.#waiting.size === 0) return;
    const resident = (this.#o.residentBytes ?? process.memoryUsage.rss)();
    for (const [partitionId, waiting] of this.#waiting) {
      waiting.resident ??= resident;
      if (resident < MEMORY_HIGH_WATER * limit || resident - waiting.resident < GUARD_GROWTH * limit)
        continue;
      const { stop } = waiting;
      this.#waiting.delete(partitionId);
      const error = new MemoryPressureError(partitionId, resident, limit);
      this.#o.metrics.errors.inc({ kind: 'memory' });
      this.#o.status.recordError('sink', error.message, true, partitionId);
      this.#o.log.warn({ partition: partitionId, residentBytes: resident }, error.message);
      stop(error);
    }
  }

  #forgetQuarantine(partitionId: string): void {
    this.#quarantines.delete(partitionId);
    this.#o.status.clearFatal(`encoding:${partitionId}`);
  }

  #quarantine(partitionId: string): { current: Quarantine | null } {
    let holder = this.#quarantines.get(partitionId);
    if (!holder) {
      holder = { current: null };
      this.#quarantines.set(partitionId, holder);
    }
    return holder;
  }

  async #error(error: Error, ctx: PartitionContext): Promise<void> {
    // Thrown by processEvents, and reported there.
    if (error instanceof UnwritableError || error instanceof MemoryPressureError) return;
    const fatal = isFatalSourceError(error as Error & { code?: string });
    this.#o.metrics.errors.inc({ kind: 'source' });
    this.#o.status.recordError('source', error.message, !fatal, ctx.partitionId || undefined);
    if (fatal) this.#o.status.setFatal('source', error.message);
    this.#o.log.warn(
      {
        partition: ctx.partitionId || undefined,
        error: error.message,
        code: (error as { code?: string }).code,
      },
      'event hubs error',
    );
  }

  async #close(reason: CloseReason, ctx: PartitionContext): Promise<void> {
    const { partitionId } = ctx;
    const writer = this.#writers.get(partitionId);
    if (!writer) return;
    if (this.#draining) return; // drain() owns the writers now
    this.#writers.delete(partitionId);
    this.#o.metrics.ownedPartitions.set(this.#writers.size);
    if (reason === CloseReason.OwnershipLost) {
      this.#o.log.info(
        { partition: partitionId },
        'partition lost to another replica; discarding its open segment',
      );
      this.#forgetQuarantine(partitionId); // the new owner isolates the event itself
      writer.abandon('ownership-lost');
      await writer.close();
      return;
    }
    // The SDK restarts the partition from the checkpoint: the open segment is replayed, and files
    // already ended finish publishing and checkpointing before the new reader starts.
    this.#o.log.info(
      { partition: partitionId, reason },
      'partition reader stopped; it restarts from the checkpoint',
    );
    const settled = writer.settle().catch(() => {});
    this.#settling.set(partitionId, { writer, settled });
    await settled;
    if (this.#settling.get(partitionId)?.writer === writer) this.#settling.delete(partitionId);
  }

  /**
   * The newest event of each owned partition, read from the service on a timer. Reading it per batch
   * instead (`trackLastEnqueuedEventProperties`) decodes runtime metrics on every message, and says
   * nothing while no batch arrives.
   */
  async #refreshLag(): Promise<void> {
    if (this.#refreshing) return;
    this.#refreshing = true;
    try {
      await Promise.all(
        [...this.#writers.keys()].map(async (partitionId) => {
          const readAt = Date.now();
          const p = await this.#o.client.getPartitionProperties(partitionId).catch(() => null);
          if (p) this.#sealIdle(partitionId, p.isEmpty ? -1 : p.lastEnqueuedSequenceNumber, readAt);
          if (!p || p.isEmpty) return;
          this.#o.status.partition(partitionId).lastEnqueued = {
            sequenceNumber: p.lastEnqueuedSequenceNumber,
            offset: String(p.lastEnqueuedOffset),
            enqueuedTime: p.lastEnqueuedOnUtc.toISOString(),
          };
        }),
      );
    } finally {
      this.#refreshing = false;
    }
    this.#updateLag();
  }

  /** Seals the ended windows of a partition that has landed everything the service holds. */
  #sealIdle(partitionId: string, lastEnqueued: number, readAt: number): void {
    const writer = this.#writers.get(partitionId);
    const sealer = writer && this.#sealers.get(writer);
    const stats = this.#o.status.partition(partitionId);
    const landed = stats.lastCheckpointed?.sequenceNumber ?? stats.resumedFrom ?? -1;
    if (!writer || !sealer || stats.oldestPending !== null || lastEnqueued > landed) return;
    sealer.idle(readAt, writer.signal).catch((error: Error) => {
      if (writer.signal.aborted) return;
      this.#o.status.recordError('sink', `sealing windows: ${error.message}`, true, partitionId);
    });
  }

  #updateLag(): void {
    const now = Date.now();
    for (const [partition, stats] of this.#o.status.partitions) {
      const lag = partitionLag(stats, now);
      this.#o.metrics.lagEvents.set({ partition }, lag.events);
      this.#o.metrics.lagSeconds.set({ partition }, lag.seconds);
    }
  }

  /**
   * Graceful stop: stop taking events, publish and checkpoint every open segment within `deadlineMs`;
   * whatever is not done by then is dropped (and replayed by the next owner, never duplicated).
   */
  async drain(deadlineMs: number): Promise<{ drained: boolean }> {
    this.#draining = true;
    const writers = [...this.#writers.values()];
    const retiring = [...this.#settling.values()];
    const all = Promise.allSettled([...writers.map((w) => w.drain()), ...retiring.map((r) => r.settled)]);
    const result = await Promise.race([
      all.then(() => 'done' as const),
      sleep(deadlineMs, 'timeout' as const),
    ]);
    if (result === 'timeout') {
      for (const w of [...writers, ...retiring.map((r) => r.writer)]) w.abandon('drain-deadline');
      this.#o.log.warn(
        { deadlineMs },
        'drain deadline reached; unfinished segments dropped (they will be replayed)',
      );
    }
    this.#updateLag();
    return { drained: result === 'done' };
  }

  /** Idempotent, ordered: drain must come first for a graceful stop; close releases everything. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#draining = true;
      if (this.#lagTimer) clearInterval(this.#lagTimer);
      if (this.#guardTimer) clearInterval(this.#guardTimer);
      const retiring = [...this.#settling.values()];
      for (const { writer } of retiring) writer.abandon('closed');
      await Promise.all([
        ...[...this.#writers.values()].map((w) => w.close()),
        ...retiring.map((r) => r.settled),
      ]);
      this.#writers.clear();
      this.#settling.clear();
      // The status outlives this Ingestor (a config switch builds another): no alarm may stay behind.
      for (const partitionId of [...this.#quarantines.keys()]) this.#forgetQuarantine(partitionId);
      await this.#subscription?.close().catch(() => {});
      await this.#o.client.close().catch(() => {});
    })();
    return this.#closed;
  }
}
