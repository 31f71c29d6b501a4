import { once } from 'node:events';
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  newSegmentResult,
  type SegmentContext,
  type SegmentResult,
  UnwritableError,
} from '../formats/format.ts';
import type { FileFormat } from '../formats/index.ts';
import { DEAD_LETTER_EXTENSION, deadLetter } from '../pipeline/dead-letter.ts';
import { eventSize, type SourceEvent } from '../pipeline/event.ts';
import { RowError } from '../pipeline/json-schema.ts';
import {
  deadLetterPath,
  deadLetterProbePrefix,
  forcedLastSequence,
  type PathLayout,
  previousLayout,
  type ReplayHit,
  replayProbePrefix,
  segmentPath,
} from '../pipeline/paths.ts';
import {
  append,
  canCommit,
  fits,
  isExpired,
  isFull,
  openSegment,
  type SegmentLimits,
  type SegmentState,
} from '../pipeline/segment-policy.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Metrics } from '../runtime/metrics.ts';
import { type PartitionStats, position } from '../runtime/status.ts';
import type { Sink, SinkFile } from '../sink/sink.ts';
import { isIsolated, type Quarantine, quarantineAfter, quarantinedEnd } from './quarantine.ts';

export type FlushReason = 'bytes' | 'events' | 'age' | 'time-bucket' | 'replay-boundary' | 'drain';

export interface FlushedFile {
  partitionId: string;
  path: string;
  events: number;
  bytes: number;
  uncompressedBytes: number;
  firstSequence: number;
  lastSequence: number;
  reason: FlushReason;
  durationMs: number;
  /** Events of this segment written to its dead-letter file instead (published first). */
  deadLettered: number;
  deadLetterPath: string | null;
  /** What the encoder reports (rows, dead letters by kind, schema version for Parquet). */
  result: SegmentResult;
}

export interface PartitionWriterOptions {
  partitionId: string;
  layout: PathLayout;
  format: FileFormat;
  limits: SegmentLimits;
  sink: Sink;
  /** Persists the checkpoint (retrying until it succeeds or the signal aborts). */
  checkpoint(position: { sequenceNumber: number; offset: string }, signal: AbortSignal): Promise<void>;
  /** Fencing: whether this replica still owns the partition, asked right before publishing a file. */
  owns?(signal: AbortSignal): Promise<boolean>;
  log: Logger;
  stats: PartitionStats;
  metrics?: Metrics;
  /** The file is published and checkpointed (metrics, status and the log line subscribe here). */
  onFlushed?(file: FlushedFile): void;
  /**
   * The partition's quarantine (see quarantine.ts), kept by the caller across the partition's
   * successive writers: a reader restarted after a failure reads the same events again.
   */
  quarantine?: { current: Quarantine | null };
  /** The format refused a segment's content: nothing of it was published; the range is quarantined. */
  onUnwritable?(failure: UnwritableSegment): void;
  /** The quarantined range is checkpointed: the partition is past the event that could not be written. */
  onRecovered?(): void;
  /** Runs after a file is published, before its checkpoint (completeness: seals the windows it ends). */
  beforeCheckpoint?(
    file: { firstEnqueuedTime: Date; firstSequence: number; lastSequence: number },
    signal: AbortSignal,
  ): Promise<void>;
  /** Test hook: sleep between publishing a file and checkpointing it. */
  pauseAfterCommitMs?: number;
  now?: () => number;
}

export interface UnwritableSegment {
  /** The path the file would have had. */
  path: string;
  firstSequence: number;
  lastSequence: number;
  events: number;
  message: string;
  quarantine: Quarantine;
}

class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.byteLength;
    done(null, chunk);
  }
}

/** A segment's dead letters, opened on the first one: a second file published just before the data file. */
class DeadLetterFile {
  readonly #open: () => SinkFile;
  file: SinkFile | null = null;
  lines = 0;
  constructor(open: () => SinkFile) {
    this.#open = open;
  }
  write(line: Buffer, signal: AbortSignal): Promise<void> | undefined {
    if (!this.file) {
      this.file = this.#open();
      this.file.stream.on('error', () => {}); // surfaced by finished() at publish
    }
    this.lines++;
    if (this.file.stream.write(line)) return undefined;
    return once(this.file.stream, 'drain', { signal }).then(() => {});
  }
}

interface OpenSegment {
  state: SegmentState;
  file: SinkFile;
  /** Where its files go: the topic's layout, or the previous one when rewriting an old file in place. */
  layout: PathLayout;
  /** Its end came from a replay probe: it rewrites a file already published. */
  fromProbe: boolean;
  deadLetters: DeadLetterFile;
  /** The quarantine's isolated event: this segment writes it as a dead letter and publishes no data file. */
  isolated: Quarantine | null;
  ctx: SegmentContext;
  input: Writable;
  counter: ByteCounter;
  /** Settles when every encoded byte has reached the sink's stream. */
  encoded: Promise<void>;
}

export class OwnershipLostError extends Error {
  constructor(partitionId: string) {
    super(`partition ${partitionId} is owned by another replica`);
    this.name = 'OwnershipLostError';
  }
}

/**
 * One partition's path from events to committed, checkpointed files.
 *
 * Exactly once in the lake rests on three rules:
 * 1. a file is published before its checkpoint, and files are published and checkpointed strictly
 *    in sequence order (one chain per partition; a failure fails every later file of the chain);
 * 2. a file's name is derived from its first and last sequence numbers, so a replay overwrites;
 * 3. the replay boundary: a segment that opens at sequence N first looks for an existing file of this
 *    partition starting at N (committed, never checkpointed); if there is one, the segment ends exactly
 *    at that file's last sequence number and rewrites it identically. Probing continues file after
 *    file until a probe finds nothing: the files left by earlier runs form a contiguous chain from the
 *    checkpoint, because publishing is sequential.
 */
export class PartitionWriter {
  readonly partitionId: string;
  readonly #o: PartitionWriterOptions;
  readonly #abort = new AbortController();
  readonly #now: () => number;
  #segment: OpenSegment | null = null;
  #chain: Promise<void> = Promise.resolve();
  #probing = true;
  /**
   * The first failure of the publish-and-checkpoint chain: every later write rethrows it, so the SDK
   * restarts the partition's reader from the checkpoint now rather than at the next flush.
   */
  #failure: Error | null = null;
  /** Whether this partition has opened a segment since the agent started (its first file is flushed early). */
  #opened = false;
  #draining = false;
  #closed = false;

  constructor(options: PartitionWriterOptions) {
    this.#o = options;
    this.partitionId = options.partitionId;
    this.#now = options.now ?? Date.now;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Takes a batch from the source. Returns when the events are accepted (backpressure). */
  async write(events: readonly SourceEvent[]): Promise<void> {
    if (this.#draining || this.#closed) return;
    try {
      await this.#write(events);
    } catch (error) {
      if (this.#abort.signal.aborted) return;
      throw error;
    }
  }

  async #write(events: readonly SourceEvent[]): Promise<void> {
    if (this.#failure) throw this.#failure;
    const { limits, stats } = this.#o;
    let i = 0;
    while (i < events.length) {
      const first = events[i]!;
      if (!this.#segment) {
        const opened = await this.#open(first);
        // Retired while it opened (its probe waits on storage): the events are re-read.
        if (this.#draining) return this.#discard(opened, 'reader-restart');
        this.#segment = opened;
      }
      const segment = this.#segment;
      const run: SourceEvent[] = [];
      let reason: FlushReason | null = null;
      for (; i < events.length; i++) {
        const event = events[i]!;
        const size = eventSize(event);
        if (!fits(limits, segment.state, event, size)) {
          reason = segment.state.forcedLastSequence !== null ? 'replay-boundary' : this.#whyNotFit(size);
          break;
        }
        append(segment.state, event, size);
        run.push(event);
        stats.eventsReceived++;
        stats.bytesReceived += size - 1;
        if (isFull(limits, segment.state)) {
          i++;
          reason = this.#whyFull(segment.state);
          break;
        }
      }
      if (run.length > 0) {
        const last = run[run.length - 1]!;
        stats.lastReceived = position(last);
        stats.oldestPending ??= segment.state.firstEnqueuedTime;
        await this.#feed(segment, run);
      }
      if (reason) await this.#flush(reason);
    }
    await this.tick();
  }

  /** Flushes the open segment if it is too old (called on every batch, including empty ones). */
  async tick(): Promise<void> {
    if (this.#failure) throw this.#failure;
    const segment = this.#segment;
    if (segment && !this.#draining && isExpired(segment.state, this.#now())) {
      await this.#flush('age');
    }
  }

  #whyNotFit(size: number): FlushReason {
    const state = this.#segment!.state;
    return state.bytes + size > this.#o.limits.maxBytes ? 'bytes' : 'time-bucket';
  }

  #whyFull(state: SegmentState): FlushReason {
    if (state.forcedLastSequence !== null) return 'replay-boundary';
    return state.events >= this.#o.limits.maxEvents ? 'events' : 'bytes';
  }

  async #open(first: SourceEvent): Promise<OpenSegment> {
    const { sink, partitionId, log } = this.#o;
    const signal = this.#abort.signal;
    let forced: number | null = null;
    let layout = this.#o.layout;
    if (this.#probing) {
      const hit = await this.#probe(first);
      if (hit) {
        forced = hit.lastSequence;
        layout = hit.layout;
        log.info(
          { firstSequence: first.sequenceNumber, lastSequence: forced, conflicting: hit.conflicting },
          'found a committed file that was never checkpointed; rewriting it with the same boundaries',
        );
        if (hit.conflicting.length > 0)
          log.warn({ files: hit.conflicting }, 'several files start at this sequence number');
      } else {
        this.#probing = false;
      }
    }
    // A range probed from a replay boundary is one published file: never split it (see #quarantine).
    const fromProbe = forced !== null;
    const quarantine = this.#o.quarantine?.current ?? null;
    forced ??= quarantinedEnd(quarantine, first.sequenceNumber);
    const isolated = isIsolated(quarantine, first.sequenceNumber) ? quarantine : null;
    const state = openSegment(this.#o.limits, first, this.#now(), forced, !this.#opened);
    this.#opened = true;
    const stagingName = `${partitionId}-${String(first.sequenceNumber).padStart(20, '0')}`;
    const file = sink.openFile(stagingName, this.#o.format.contentType, signal);
    const deadLetters = new DeadLetterFile(() =>
      sink.openFile(`${stagingName}-deadletter`, 'application/x-ndjson', signal),
    );
    const ctx: SegmentContext = {
      partitionId,
      deadLetter: (line) => deadLetters.write(line, signal),
      result: newSegmentResult(),
    };
    const streams = isolated ? [deadLetterWriter(ctx, isolated.reason)] : this.#o.format.createStreams(ctx);
    const counter = new ByteCounter();
    const encoded = pipeline([...streams, counter, file.stream], { signal });
    encoded.catch(() => {});
    return {
      state,
      layout,
      fromProbe,
      file,
      deadLetters,
      isolated,
      ctx,
      input: streams[0],
      counter,
      encoded,
    };
  }

  /**
   * The file an earlier run published at `first` but never checkpointed: its data file, or only its
   * dead letters (a crash between the two). Also under the previous layout of the template, so that
   * an upgrade rewrites the files the old version left in place instead of writing them again.
   */
  async #probe(first: SourceEvent): Promise<(ReplayHit & { layout: PathLayout }) | null> {
    const { sink, partitionId } = this.#o;
    const signal = this.#abort.signal;
    const { enqueuedTimeUtc: time, sequenceNumber: seq } = first;
    for (const layout of [this.#o.layout, previousLayout(this.#o.layout)]) {
      if (!layout) continue;
      const data = await sink.list(replayProbePrefix(layout, partitionId, time, seq), signal);
      const hit =
        forcedLastSequence(data, partitionId, seq, layout.extension) ??
        forcedLastSequence(
          await sink.list(deadLetterProbePrefix(layout, partitionId, time, seq), signal),
          partitionId,
          seq,
          DEAD_LETTER_EXTENSION,
        );
      if (hit) return { ...hit, layout };
    }
    return null;
  }

  async #feed(segment: OpenSegment, events: SourceEvent[]): Promise<void> {
    if (segment.input.write(events)) return;
    await Promise.race([once(segment.input, 'drain', { signal: this.#abort.signal }), segment.encoded]);
  }

  /**
   * Ends the open segment and queues its publish + checkpoint behind the previous file's. Returns once
   * the previous file is checkpointed, so at most one file per partition is in flight while the next
   * one fills.
   */
  async #flush(reason: FlushReason): Promise<void> {
    const segment = this.#segment!;
    this.#segment = null;
    const started = this.#now();
    segment.input.end();
    const previous = this.#chain;
    const job = (async () => {
      try {
        const encoding = await segment.encoded.then(
          () => null,
          (error: Error) => error,
        );
        // An earlier file's failure comes first: the reader restarts from before it.
        await previous;
        if (encoding) {
          this.#quarantine(segment, encoding);
          throw encoding;
        }
        await this.#publish(segment, reason, started);
      } catch (error) {
        if (!this.#abort.signal.aborted) this.#failure ??= error as Error;
        await segment.file.discard().catch(() => {});
        await segment.deadLetters.file?.discard().catch(() => {});
        throw error;
      }
    })();
    job.catch(() => {});
    this.#chain = job;
    await previous;
  }

  /** Content the format refused is quarantined (see quarantine.ts) and reported. */
  #quarantine(segment: OpenSegment, error: Error): void {
    const holder = this.#o.quarantine;
    if (!(error instanceof UnwritableError) || !holder || this.#abort.signal.aborted) return;
    // Splitting a probed range would write parts beside the file already published: it is retried
    // as it is (it was written once, so this is no content problem) and reported as an error. A
    // probed single event cannot be split: it is the event an earlier run isolated as a dead letter.
    const { state } = segment;
    if (segment.fromProbe && state.events > 1) return;
    const quarantine = quarantineAfter(state.firstSequence, state.lastSequence, state.events, error.message);
    holder.current = quarantine;
    this.#o.onUnwritable?.({
      path: segmentPath(
        segment.layout,
        this.partitionId,
        state.firstEnqueuedTime,
        state.firstSequence,
        state.lastSequence,
      ),
      firstSequence: state.firstSequence,
      lastSequence: state.lastSequence,
      events: state.events,
      message: error.message,
      quarantine,
    });
  }

  async #publish(segment: OpenSegment, reason: FlushReason, started: number): Promise<void> {
    const { partitionId, log, stats } = this.#o;
    const { layout } = segment;
    const signal = this.#abort.signal;
    const { state } = segment;
    if (this.#o.owns && !(await this.#o.owns(signal))) throw new OwnershipLostError(partitionId);
    if (signal.aborted) throw new OwnershipLostError(partitionId);
    const path = segmentPath(
      layout,
      partitionId,
      state.firstEnqueuedTime,
      state.firstSequence,
      state.lastSequence,
    );
    let dlPath: string | null = null;
    const dl = segment.deadLetters.file;
    if (dl) {
      // Dead letters first: if the data file is published, so are they; a replay rewrites both.
      dl.stream.end();
      await finished(dl.stream);
      dlPath = deadLetterPath(
        layout,
        partitionId,
        state.firstEnqueuedTime,
        state.firstSequence,
        state.lastSequence,
      );
      await dl.publish(dlPath);
    }
    if (segment.isolated) await segment.file.discard();
    else await segment.file.publish(path);
    log.debug({ path, lastSequence: state.lastSequence }, 'file published; checkpointing');
    if (this.#o.pauseAfterCommitMs) await sleep(this.#o.pauseAfterCommitMs);
    if (signal.aborted) throw new OwnershipLostError(partitionId);
    await this.#o.beforeCheckpoint?.(state, signal);
    await this.#o.checkpoint({ sequenceNumber: state.lastSequence, offset: state.lastOffset }, signal);
    const checkpointed = {
      sequenceNumber: state.lastSequence,
      offset: state.lastOffset,
      enqueuedTimeUtc: state.lastEnqueuedTime,
    };
    stats.lastCheckpointed = position(checkpointed);
    const quarantine = this.#o.quarantine;
    if (quarantine?.current && state.lastSequence >= quarantine.current.lastSequence) {
      quarantine.current = null;
      this.#o.onRecovered?.();
    }
    stats.oldestPending = this.#segment?.state.firstEnqueuedTime ?? null;
    const durationMs = this.#now() - started;
    const flushed: FlushedFile = {
      partitionId,
      path: segment.isolated && dlPath ? dlPath : path,
      events: state.events,
      bytes: segment.counter.bytes,
      uncompressedBytes: state.bytes,
      firstSequence: state.firstSequence,
      lastSequence: state.lastSequence,
      reason,
      durationMs,
      deadLettered: segment.deadLetters.lines,
      deadLetterPath: dlPath,
      result: segment.ctx.result,
    };
    this.#o.onFlushed?.(flushed);
  }

  /**
   * Graceful end: stop taking events, publish and checkpoint the open segment (unless it is a replayed
   * segment that has not reached its boundary: that one is dropped and replayed by the next owner).
   */
  async drain(): Promise<void> {
    if (this.#closed) return;
    this.#draining = true;
    const segment = this.#segment;
    if (segment) {
      if (canCommit(segment.state)) {
        await this.#flush('drain');
      } else {
        this.#segment = null;
        this.#discard(segment, 'incomplete-replay');
      }
    }
    await this.#chain;
  }

  /**
   * The SDK restarts this partition's reader from the checkpoint (after a receive error): the open
   * segment is dropped (it will be re-read), files already ended finish publishing and checkpointing.
   */
  async settle(): Promise<void> {
    this.#draining = true;
    const segment = this.#segment;
    this.#segment = null;
    if (segment) this.#discard(segment, 'reader-restart');
    try {
      await this.#chain;
    } finally {
      this.#closed = true;
    }
  }

  /** Ownership lost or deadline reached: drop everything not yet published; never publish it later. */
  abandon(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#draining = true;
    this.#abort.abort(new OwnershipLostError(this.partitionId));
    const segment = this.#segment;
    this.#segment = null;
    if (segment) this.#discard(segment, reason);
  }

  #discard(segment: OpenSegment, reason: string): void {
    this.#o.metrics?.discarded.inc({ reason });
    this.#o.log.info(
      { firstSequence: segment.state.firstSequence, lastSequence: segment.state.lastSequence, reason },
      'open segment discarded; it will be replayed from the checkpoint',
    );
    segment.input.destroy();
    segment.file.discard().catch(() => {});
    segment.deadLetters.file?.discard().catch(() => {});
  }

  /** Idempotent: after a drain (or instead of one) releases everything. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#draining = true;
      this.#abort.abort(new Error('closed'));
      const segment = this.#segment;
      this.#segment = null;
      if (segment) this.#discard(segment, 'closed');
    }
    await this.#chain.catch(() => {});
  }
}

/** The stream of an isolated event's segment: the event goes to the dead letters, no data is encoded. */
function deadLetterWriter(ctx: SegmentContext, reason: string): Transform {
  const problem = new RowError('unwritable', reason);
  return new Transform({
    writableObjectMode: true,
    transform(events: readonly SourceEvent[], _, done) {
      const waits = events.map((event) => deadLetter(ctx, event, problem));
      Promise.all(waits).then(() => done(), done);
    },
  });
}
