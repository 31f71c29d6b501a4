import type { Format } from '@hubcap/shared';
import type { Logger } from '../runtime/logger.ts';
import type { Metrics } from '../runtime/metrics.ts';
import type { AgentStatus } from '../runtime/status.ts';
import type { FlushedFile } from './partition-writer.ts';

/** A file published and checkpointed, with the format it was written in. */
export type FlushedFileFacts = FlushedFile & { format: Format['type'] };

export type FlushedFileListener = (file: FlushedFileFacts) => void;

/**
 * The one place that hears of every file once it is published and checkpointed: metrics, the next
 * report, the log and anything a format adds (Parquet reports its schema versions) subscribe here.
 * Listeners run in subscription order, synchronously, inside the partition's publish chain: one that
 * throws fails the chain like any other error after the checkpoint.
 */
export class FlushedFiles {
  readonly #format: Format['type'];
  readonly #listeners: FlushedFileListener[];

  constructor(format: Format['type'], listeners: FlushedFileListener[] = []) {
    this.#format = format;
    this.#listeners = [...listeners];
  }

  subscribe(listener: FlushedFileListener): void {
    this.#listeners.push(listener);
  }

  /** For `PartitionWriterOptions.onFlushed`. */
  readonly emit = (file: FlushedFile): void => {
    const facts = { ...file, format: this.#format };
    for (const listener of this.#listeners) listener(facts);
  };
}

/** Prometheus counters of written events, bytes, files and dead letters, and the flush duration. */
export function countInMetrics(metrics: Metrics): FlushedFileListener {
  return (file) => {
    const partition = file.partitionId;
    for (const [reason, n] of Object.entries(file.result.deadLetterKinds)) {
      metrics.deadLettered.inc({ partition, reason }, n);
    }
    metrics.eventsWritten.inc({ partition }, file.events);
    metrics.bytesWritten.inc({ partition }, file.bytes);
    metrics.filesWritten.inc({ partition });
    metrics.flushSeconds.observe({ reason: file.reason }, file.durationMs / 1000);
  };
}

/** The totals and recent files of the next report to the control plane. */
export function recordInStatus(status: AgentStatus): FlushedFileListener {
  return (file) => {
    status.totals.eventsWritten += file.events;
    status.totals.bytesWritten += file.bytes;
    status.totals.filesWritten++;
    status.files.push({
      path: file.path,
      partitionId: file.partitionId,
      events: file.events,
      bytes: file.bytes,
      firstSequenceNumber: file.firstSequence,
      lastSequenceNumber: file.lastSequence,
      committedAt: new Date().toISOString(),
    });
    status.totals.deadLettered += file.deadLettered;
    for (const [reason, n] of Object.entries(file.result.deadLetterKinds)) {
      status.deadLetteredByReason[reason] = (status.deadLetteredByReason[reason] ?? 0) + n;
    }
  };
}

/** One `file written` line per file. */
export function logWritten(log: Logger): FlushedFileListener {
  return (file) => {
    log.info(
      {
        partition: file.partitionId,
        path: file.path,
        events: file.events,
        bytes: file.bytes,
        uncompressedBytes: file.uncompressedBytes,
        firstSequence: file.firstSequence,
        lastSequence: file.lastSequence,
        reason: file.reason,
        durationMs: file.durationMs,
        ...(file.deadLetterPath
          ? { deadLettered: file.deadLettered, deadLetterPath: file.deadLetterPath }
          : {}),
        ...(file.result.schema ? { schemaVersion: file.result.schema.number } : {}),
      },
      'file written',
    );
  };
}
