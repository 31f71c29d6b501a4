import type {
  CheckpointStore,
  EventHubConsumerClient,
  EventPosition,
  ReceivedEventData,
} from '@azure/event-hubs';
import type { ReplayPartition, ReplayProgress, ReplayRun, TopicConfig } from '@hubcap/shared';
import type { Completeness } from '../completeness/index.ts';
import { UnwritableError } from '../formats/format.ts';
import type { FileFormat } from '../formats/index.ts';
import type { FlushedFile } from '../ingest/partition-writer.ts';
import type { Quarantine } from '../ingest/quarantine.ts';
import { createPartitionWriter } from '../ingest/writer-factory.ts';
import { folderPrefix, type PathLayout, rangeHolding } from '../pipeline/paths.ts';
import type { SegmentLimits } from '../pipeline/segment-policy.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Metrics } from '../runtime/metrics.ts';
import type { AgentStatus } from '../runtime/status.ts';
import type { Sink } from '../sink/sink.ts';

export interface ReplayOptions {
  run: ReplayRun;
  /** The topic's config (its format's name in the message of a refused file). */
  config: TopicConfig;
  /** Reads chosen partitions without load balancing or ownership (see createReaderClient). */
  client: EventHubConsumerClient;
  /** The topic's consumer group (the reader's; checkpoints are kept under it too). */
  consumerGroup: string;
  /** The replay's own checkpoints (its scope), never the live agents'. */
  checkpoints: CheckpointStore;
  sink: Sink;
  format: FileFormat;
  /** Where the replay writes: the topic's layout, or the same under the replay's prefix. */
  layout: PathLayout;
  limits: SegmentLimits;
  receive: { maxBatchSize: number; maxWaitTimeInSeconds: number; prefetchCount: number };
  log: Logger;
  metrics: Metrics;
  status: AgentStatus;
  signal: AbortSignal;
  /** The topic's windows (null for a template without time variables): the whole ones landed are sealed. */
  completeness: Completeness | null;
  /** Progress, every `reportEveryMs` and once at the end. */
  report(progress: ReplayProgress): Promise<void>;
  /** Every file once published and checkpointed (the format's subscribers, metrics, the log). */
  onFlushed?(file: FlushedFile): void;
  reportEveryMs: number;
  /** Test hook: sleep between publishing a file and checkpointing it. */
  pauseAfterCommitMs?: number;
}

/** The first event at a position, or null when the partition holds none there. */
async function eventAt(
  client: EventHubConsumerClient,
  partitionId: string,
  startPosition: EventPosition,
): Promise<ReceivedEventData | null> {
  return new Promise((resolve, reject) => {
    const subscription = client.subscribe(
      partitionId,
      {
        processEvents: async (events) => {
          await subscription.close();
          resolve(events[0] ?? null);
        },
        processError: async (error) => {
          await subscription.close();
          reject(error);
        },
      },
      { startPosition, maxBatchSize: 1, maxWaitTimeInSeconds: 5, skipParsingBodyAsJson: true },
    );
  });
}

/**
 * A partition's inclusive sequence range for the window: from the first event enqueued at or after
 * `from` (or the given start sequence) to the last one before `to` (or the given end sequence). Into
 * the topic's own layout the range widens to the boundaries of the files already holding its ends, so
 * every file is rewritten whole and identical.
 */
export async function planPartition(
  o: Pick<ReplayOptions, 'client' | 'run' | 'sink' | 'layout' | 'signal'>,
  partitionId: string,
): Promise<ReplayPartition> {
  const none: ReplayPartition = {
    partitionId,
    firstSequence: null,
    lastSequence: null,
    landed: null,
    done: true,
  };
  const { client, run } = o;
  const endSequence = run.endSequences?.[partitionId];
  // End sequences ask for ranges by partition: the partitions they do not name are not replayed.
  if (run.endSequences && endSequence === undefined) return none;
  const p = await client.getPartitionProperties(partitionId, { abortSignal: o.signal });
  if (p.isEmpty) return none;
  const to = Date.parse(run.to);
  // Enqueued-time positions are exclusive: one millisecond earlier gives the first event at or after.
  const after =
    endSequence !== undefined || p.lastEnqueuedOnUtc.getTime() < to
      ? null
      : await eventAt(client, partitionId, { enqueuedOn: new Date(to - 1) });
  const explicit = run.startSequences?.[partitionId];
  const start = await eventAt(
    client,
    partitionId,
    explicit === undefined
      ? { enqueuedOn: new Date(Date.parse(run.from) - 1) }
      : { sequenceNumber: Math.max(explicit, p.beginningSequenceNumber), isInclusive: true },
  );
  const lastSequence = Math.min(
    endSequence ?? Number.MAX_SAFE_INTEGER,
    run.landedUpTo ? (run.landedUpTo[partitionId] ?? -1) : Number.MAX_SAFE_INTEGER,
    after ? after.sequenceNumber - 1 : p.lastEnqueuedSequenceNumber,
  );
  if (!start || start.sequenceNumber > lastSequence) return none;
  const range = { ...none, firstSequence: start.sequenceNumber, lastSequence, done: false };
  if (o.run.target.kind !== 'ownLayout') return range;
  const end = await eventAt(client, partitionId, { sequenceNumber: lastSequence, isInclusive: true });
  const holding = async (event: ReceivedEventData | null) =>
    event &&
    rangeHolding(
      await o.sink.list(folderPrefix(o.layout, partitionId, event.enqueuedTimeUtc), o.signal),
      partitionId,
      event.sequenceNumber,
      o.layout.extension,
    );
  const [first, last] = [await holding(start), await holding(end)];
  // A file whose start the hub no longer holds cannot be rewritten whole: start after it.
  if (first)
    range.firstSequence =
      first.firstSequence >= p.beginningSequenceNumber ? first.firstSequence : first.lastSequence + 1;
  if (last) range.lastSequence = last.lastSequence;
  if (range.firstSequence! > range.lastSequence!) return none;
  return range;
}

/**
 * Reads one partition's range into files and checkpoints them, from the replay's own checkpoint on. A
 * file the format's writer refuses is quarantined: like the live agent's reader, the partition is read
 * again from its checkpoint until the event that causes it is isolated as a dead letter.
 */
async function replayPartition(o: ReplayOptions, range: ReplayPartition): Promise<void> {
  const quarantine: { current: Quarantine | null } = { current: null };
  for (;;) {
    const before = quarantine.current;
    try {
      await readRange(o, range, quarantine);
      break;
    } catch (error) {
      // Only a refusal that narrowed the quarantine is progress; anything else fails the partition.
      if (!(error instanceof UnwritableError) || quarantine.current === before || o.signal.aborted)
        throw error;
    }
  }
  range.done = true;
}

async function readRange(
  o: ReplayOptions,
  range: ReplayPartition,
  quarantine: { current: Quarantine | null },
): Promise<void> {
  const { partitionId } = range;
  const last = range.lastSequence!;
  const from = range.landed === null ? range.firstSequence! : range.landed + 1;
  const log = o.log.child({ partition: partitionId });
  const writer = createPartitionWriter(
    {
      ...o,
      formatType: o.config.format.type,
      checkpointStore: o.checkpoints,
      onFlushed: (file) => {
        o.onFlushed?.(file);
        range.landed = file.lastSequence;
      },
    },
    {
      where: {
        fullyQualifiedNamespace: o.client.fullyQualifiedNamespace,
        eventHubName: o.client.eventHubName,
        consumerGroup: o.consumerGroup,
        partitionId,
      },
      log,
      quarantine,
    },
  );
  log.info({ from, last }, 'replaying partition');
  try {
    await new Promise<void>((resolve, reject) => {
      let finished = false;
      const subscription = o.client.subscribe(
        partitionId,
        {
          processEvents: async (events: ReceivedEventData[]) => {
            if (finished) return;
            try {
              const mine = events.filter((e) => e.sequenceNumber <= last);
              if (mine.length > 0) await writer.write(mine);
              else await writer.tick();
              if (events.some((e) => e.sequenceNumber >= last)) {
                finished = true;
                await writer.drain();
                await subscription.close();
                resolve();
              }
            } catch (error) {
              finished = true;
              await subscription.close().catch(() => {});
              reject(error);
            }
          },
          processError: async (error) => {
            log.warn({ error: error.message }, 'event hubs error while replaying; retrying');
          },
        },
        {
          startPosition: { sequenceNumber: from, isInclusive: true },
          ...o.receive,
          skipParsingBodyAsJson: true,
        },
      );
      o.signal.addEventListener('abort', () => {
        finished = true;
        void subscription.close().then(() => reject(new Error('replay stopped')));
      });
    });
  } finally {
    await writer.close();
  }
}

/**
 * After every range is landed (so a resumed run seals again, writing the same bytes): the manifests
 * of the windows lying whole in the replay's time range. A partition started at a sequence number
 * covers no window it can prove whole. Into the topic's own layout, the windows the range cuts keep
 * their manifests, derived again (a Parquet file rewritten under another running schema changed).
 */
async function sealWindows(o: ReplayOptions, ids: string[]): Promise<void> {
  const { completeness, run } = o;
  if (!completeness) return;
  const timed = ids.filter((id) => run.startSequences?.[id] === undefined);
  const [from, to] = [Date.parse(run.from), Date.parse(run.to)];
  await completeness.sealReplayed(completeness.windowsWithin(from, to), timed, o.log, o.signal);
  if (run.target.kind === 'ownLayout')
    await completeness.sealReplayed(completeness.windowsCut(from, to), timed, o.log, o.signal, true);
}

/**
 * A bounded run: plans every partition's range, resumes from the replay's own checkpoints, writes each
 * range with the same partition writer as the live agent (so names, boundaries and the replay probe
 * are the same), and ends when every range is landed.
 */
export async function runReplay(o: ReplayOptions): Promise<ReplayProgress> {
  const ids = await o.client.getPartitionIds({ abortSignal: o.signal });
  const landed = new Map(
    (
      await o.checkpoints.listCheckpoints(
        o.client.fullyQualifiedNamespace,
        o.client.eventHubName,
        o.consumerGroup,
      )
    ).map((c) => [c.partitionId, c.sequenceNumber]),
  );
  const ranges = await Promise.all(ids.map((id) => planPartition(o, id)));
  for (const r of ranges) {
    const at = landed.get(r.partitionId);
    if (r.lastSequence === null || at === undefined) continue;
    r.landed = at;
    if (at >= r.lastSequence) r.done = true;
  }
  o.log.info({ ranges }, 'replay planned');
  const progress = (state: ReplayProgress['state'], message?: string): ReplayProgress => ({
    id: o.run.id,
    partitions: ranges,
    state,
    ...(message ? { message } : {}),
  });
  const send = (p: ReplayProgress) =>
    o
      .report(p)
      .catch((error: Error) => o.log.warn({ error: error.message }, 'cannot report replay progress'));
  const timer = setInterval(() => void send(progress('running')), o.reportEveryMs);
  timer.unref();
  try {
    await send(progress('running'));
    await Promise.all(ranges.filter((r) => !r.done).map((r) => replayPartition(o, r)));
    await sealWindows(o, ids);
  } catch (error) {
    clearInterval(timer);
    if (!o.signal.aborted) await send(progress('failed', (error as Error).message.slice(0, 2000)));
    throw error;
  }
  clearInterval(timer);
  const done = progress('succeeded');
  await send(done);
  return done;
}
