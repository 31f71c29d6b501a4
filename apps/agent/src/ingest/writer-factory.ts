import type { Checkpoint, CheckpointStore } from '@azure/event-hubs';
import { checkpointer } from '../checkpoint/checkpointer.ts';
import type { FileFormat } from '../formats/index.ts';
import type { PathLayout } from '../pipeline/paths.ts';
import type { SegmentLimits } from '../pipeline/segment-policy.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Metrics } from '../runtime/metrics.ts';
import type { AgentStatus } from '../runtime/status.ts';
import type { Sink } from '../sink/sink.ts';
import { type FlushedFile, PartitionWriter, type PartitionWriterOptions } from './partition-writer.ts';
import type { Quarantine } from './quarantine.ts';

/** What every partition writer of one run shares, the live agent's or a replay's. */
export interface WriterParts {
  /** The topic's `format.type`, named in the message of a refused file. */
  formatType: string;
  layout: PathLayout;
  format: FileFormat;
  limits: SegmentLimits;
  sink: Sink;
  checkpointStore: CheckpointStore;
  metrics: Metrics;
  status: AgentStatus;
  onFlushed?(file: FlushedFile): void;
  pauseAfterCommitMs?: number | undefined;
}

/** One partition's part: where it checkpoints, its log, and what only the live agent has. */
export interface WriterPartition extends Partial<Pick<PartitionWriterOptions, 'owns' | 'beforeCheckpoint'>> {
  where: Pick<Checkpoint, 'fullyQualifiedNamespace' | 'eventHubName' | 'consumerGroup' | 'partitionId'>;
  log: Logger;
  /**
   * The partition's quarantine, kept by the caller across the partition's successive writers: the
   * reader restarted after a refused file reads the same events again and splits the range.
   */
  quarantine: { current: Quarantine | null };
}

/**
 * The one way a partition writer is built: the same checkpointer, quarantine and alarms for the live
 * agent and for a replay, so an event the format's writer refuses becomes a dead letter in both.
 */
export function createPartitionWriter(o: WriterParts, p: WriterPartition): PartitionWriter {
  const { partitionId } = p.where;
  const { log } = p;
  return new PartitionWriter({
    partitionId,
    layout: o.layout,
    format: o.format,
    limits: o.limits,
    sink: o.sink,
    log,
    stats: o.status.partition(partitionId),
    metrics: o.metrics,
    pauseAfterCommitMs: o.pauseAfterCommitMs,
    onFlushed: o.onFlushed,
    checkpoint: checkpointer(o.checkpointStore, p.where, { ...o, log }),
    quarantine: p.quarantine,
    onUnwritable: (failure) => {
      const message = `partition ${partitionId}: the ${o.formatType} writer refused file ${failure.path} (sequence numbers ${failure.firstSequence}–${failure.lastSequence}, ${failure.events} events): ${failure.message}. Re-reading it in parts of ${failure.quarantine.span} to isolate the event that causes it as a dead letter.`;
      o.metrics.errors.inc({ kind: 'encoding' });
      o.status.recordError('encoding', message, true, partitionId);
      o.status.setFatal(`encoding:${partitionId}`, message);
      log.error(
        { ...failure, quarantine: undefined, span: failure.quarantine.span },
        'file refused by the writer; isolating the event that causes it',
      );
    },
    onRecovered: () => {
      o.status.clearFatal(`encoding:${partitionId}`);
      log.info('the refused range is written; the event that caused it is in the dead letters');
    },
    owns: p.owns,
    beforeCheckpoint: p.beforeCheckpoint,
  });
}
