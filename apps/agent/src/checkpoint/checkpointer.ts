import type { Checkpoint, CheckpointStore } from '@azure/event-hubs';
import type { Logger } from '../runtime/logger.ts';
import type { Metrics } from '../runtime/metrics.ts';
import type { AgentStatus } from '../runtime/status.ts';
import { retryStorage } from '../sink/retry.ts';

/**
 * A partition writer's `checkpoint`: writes the position to `store`, retrying until it succeeds or the
 * signal aborts, each failure counted, recorded in the status and logged.
 */
export function checkpointer(
  store: CheckpointStore,
  where: Pick<Checkpoint, 'fullyQualifiedNamespace' | 'eventHubName' | 'consumerGroup' | 'partitionId'>,
  report: { metrics: Metrics; status: AgentStatus; log: Logger },
) {
  return (position: { sequenceNumber: number; offset: string }, signal: AbortSignal) =>
    retryStorage('checkpoint', () => store.updateCheckpoint({ ...where, ...position }), {
      signal,
      onError: (info) => {
        report.metrics.retries.inc({ operation: 'checkpoint', kind: info.kind });
        report.metrics.errors.inc({ kind: 'checkpoint' });
        report.status.recordError('checkpoint', info.message, info.retryable, where.partitionId);
        report.log.warn({ error: info.message }, 'checkpoint failed; retrying');
      },
    });
}
