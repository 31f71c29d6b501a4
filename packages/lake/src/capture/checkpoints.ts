import { BlobCheckpointStore } from '@azure/eventhubs-checkpointstore-blob';
import type { ContainerClient } from '@azure/storage-blob';
import { checkpointNamespace } from '@hubcap/shared';

export interface CheckpointTarget {
  topic: string;
  /** As the Event Hubs client names it (`client.fullyQualifiedNamespace`), like the agent. */
  fullyQualifiedNamespace: string;
  eventHubName: string;
  consumerGroup: string;
}

/**
 * Writes a topic's checkpoints where its agents read them (`topics/<topic>/<namespace>/…`, through the
 * SDK's own blob checkpoint store, so the format is the SDK's). An agent resumes after a checkpoint:
 * one at Capture's last event makes it land Capture's last + 1 first.
 */
export async function seedCheckpoints(
  container: ContainerClient,
  target: CheckpointTarget,
  positions: readonly { partitionId: string; sequenceNumber: number; offset: string }[],
): Promise<void> {
  const store = new BlobCheckpointStore(container);
  for (const p of positions) {
    await store.updateCheckpoint({
      fullyQualifiedNamespace: checkpointNamespace(target.topic, target.fullyQualifiedNamespace),
      eventHubName: target.eventHubName,
      consumerGroup: target.consumerGroup,
      partitionId: p.partitionId,
      sequenceNumber: p.sequenceNumber,
      offset: p.offset,
    });
  }
}
