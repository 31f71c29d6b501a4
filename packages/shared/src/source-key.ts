import type { TopicConfig } from './topic-config.ts';

/** Which stream a topic reads: Event Hubs compares these names without case, so the key is lower-case. */
export interface SourceKey {
  namespace: string;
  eventHubName: string;
  consumerGroup: string;
}

function connectionStringPart(connectionString: string, name: string): string | undefined {
  for (const part of connectionString.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim().toLowerCase() === name.toLowerCase()) {
      return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}

/**
 * The (namespace, event hub, consumer group) a source really reads. A connection string's endpoint and
 * EntityPath win over the separate fields, as they do for the SDK.
 */
export function sourceKey(source: TopicConfig['source']): SourceKey {
  let namespace = source.fullyQualifiedNamespace;
  let eventHubName = source.eventHubName;
  if (source.auth.kind === 'connectionString') {
    const endpoint = connectionStringPart(source.auth.connectionString, 'Endpoint');
    const host = endpoint?.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
    if (host) namespace = host;
    eventHubName = connectionStringPart(source.auth.connectionString, 'EntityPath') || eventHubName;
  }
  return {
    namespace: namespace.toLowerCase(),
    eventHubName: eventHubName.toLowerCase(),
    consumerGroup: source.consumerGroup.toLowerCase(),
  };
}

/**
 * Partition ownership and checkpoints of a topic live under `topics/<topic>/` in the checkpoint
 * container, so two topics pointed at one container can never read or claim each other's partitions.
 * The SDK's blob store names blobs `<namespace>/<hub>/<group>/{ownership,checkpoint}/<partition>`
 * (lower-case): a topic's store passes this scoped namespace in place of the real one.
 */
export function checkpointNamespace(topic: string, fullyQualifiedNamespace: string): string {
  return `topics/${topic}/${fullyQualifiedNamespace}`;
}

/** The blob-name prefix of a topic's checkpoints (the layout of `@azure/eventhubs-checkpointstore-blob`). */
export function checkpointBlobPrefix(
  topic: string | null,
  fullyQualifiedNamespace: string,
  eventHubName: string,
  consumerGroup: string,
): string {
  const ns = topic === null ? fullyQualifiedNamespace : checkpointNamespace(topic, fullyQualifiedNamespace);
  return `${ns}/${eventHubName}/${consumerGroup}/checkpoint/`.toLowerCase();
}
