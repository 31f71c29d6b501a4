import {
  type CheckpointStore,
  EventHubConsumerClient,
  type EventHubConsumerClientOptions,
} from '@azure/event-hubs';
import { BlobCheckpointStore } from '@azure/eventhubs-checkpointstore-blob';
import type { TokenCredential } from '@azure/identity';
import type { ContainerClient } from '@azure/storage-blob';
import type { TopicConfig } from '@hubcap/shared';

export interface SourceTuning {
  agentId: string;
  updateIntervalMs: number;
  ownershipExpiryMs: number;
}

/** Connection strings may carry the hub (EntityPath); then the hub name must not be passed again. */
function hasEntityPath(connectionString: string): boolean {
  return /(^|;)\s*EntityPath\s*=/i.test(connectionString);
}

export function createConsumerClient(
  config: TopicConfig,
  checkpointStore: CheckpointStore,
  tuning: SourceTuning,
  credential: () => TokenCredential,
): EventHubConsumerClient {
  const { source } = config;
  const options: EventHubConsumerClientOptions = {
    identifier: tuning.agentId,
    loadBalancingOptions: {
      strategy: 'greedy',
      updateIntervalInMs: tuning.updateIntervalMs,
      partitionOwnershipExpirationIntervalInMs: tuning.ownershipExpiryMs,
    },
    retryOptions: { maxRetries: 6, retryDelayInMs: 500, maxRetryDelayInMs: 15_000, timeoutInMs: 60_000 },
  };
  if (source.auth.kind === 'connectionString') {
    return hasEntityPath(source.auth.connectionString)
      ? new EventHubConsumerClient(
          source.consumerGroup,
          source.auth.connectionString,
          checkpointStore,
          options,
        )
      : new EventHubConsumerClient(
          source.consumerGroup,
          source.auth.connectionString,
          source.eventHubName,
          checkpointStore,
          options,
        );
  }
  return new EventHubConsumerClient(
    source.consumerGroup,
    source.fullyQualifiedNamespace,
    source.eventHubName,
    credential(),
    checkpointStore,
    options,
  );
}

export function blobCheckpointStore(container: ContainerClient): CheckpointStore {
  return new BlobCheckpointStore(container);
}

/**
 * A client that reads chosen partitions without a checkpoint store: no load balancing, no ownership
 * and no owner level, so live agents keep their partitions (a replay's reader).
 */
export function createReaderClient(
  config: TopicConfig,
  credential: () => TokenCredential,
): EventHubConsumerClient {
  const { source } = config;
  const options: EventHubConsumerClientOptions = {
    retryOptions: { maxRetries: 6, retryDelayInMs: 500, maxRetryDelayInMs: 15_000, timeoutInMs: 60_000 },
  };
  if (source.auth.kind === 'connectionString') {
    return hasEntityPath(source.auth.connectionString)
      ? new EventHubConsumerClient(source.consumerGroup, source.auth.connectionString, options)
      : new EventHubConsumerClient(
          source.consumerGroup,
          source.auth.connectionString,
          source.eventHubName,
          options,
        );
  }
  return new EventHubConsumerClient(
    source.consumerGroup,
    source.fullyQualifiedNamespace,
    source.eventHubName,
    credential(),
    options,
  );
}
