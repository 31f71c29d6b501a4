import { SECRET_FIELDS, type SecretField } from './secrets.ts';
import { TopicConfig } from './topic-config.ts';

/** A distinct, valid value for each secret field, easy to search for in anything that must not hold it. */
export const SECRET_VALUES: Record<SecretField, string> = Object.fromEntries(
  SECRET_FIELDS.map((field, i) => [
    field.path,
    `Endpoint=sb://secret${i}.servicebus.windows.net/;AccountName=secret${i};SharedAccessKey=never-shown-${i}`,
  ]),
) as Record<SecretField, string>;

/** For tests: a valid config with every declared secret field in use, holding SECRET_VALUES. */
export function configWithEverySecret(topic = 'secret-fields'): TopicConfig {
  return TopicConfig.parse({
    topic,
    source: {
      eventHubName: 'orders',
      auth: { kind: 'connectionString', connectionString: SECRET_VALUES['source.auth.connectionString'] },
    },
    destination: {
      kind: 'azureBlob',
      account: {
        kind: 'connectionString',
        connectionString: SECRET_VALUES['destination.account.connectionString'],
      },
      container: 'raw',
    },
  });
}

/** For tests: a valid config with no secret in use (workload identity, a local folder). */
export function configWithoutSecrets(topic = 'no-secrets'): TopicConfig {
  return TopicConfig.parse({
    topic,
    source: {
      fullyQualifiedNamespace: 'ns.servicebus.windows.net',
      eventHubName: 'orders',
      auth: { kind: 'workloadIdentity' },
    },
    destination: { kind: 'localFolder', path: '/data' },
  });
}

/** For tests: a topic that reads a hub of the local Event Hubs server and lands in an Azurite container. */
export function localTopicInput(
  topic: string,
  local: { eventHubs: string; storage: string; hub: string; namespace?: string; consumerGroup?: string },
) {
  return {
    topic,
    source: {
      ...(local.namespace ? { fullyQualifiedNamespace: local.namespace } : {}),
      eventHubName: local.hub,
      ...(local.consumerGroup ? { consumerGroup: local.consumerGroup } : {}),
      auth: { kind: 'connectionString' as const, connectionString: local.eventHubs },
    },
    destination: {
      kind: 'azureBlob' as const,
      account: { kind: 'connectionString' as const, connectionString: local.storage },
      container: 'lake',
    },
  };
}

/** For tests: a topic that reads and writes with workload identity, on Azure's endpoints unless told. */
export function workloadTopicInput(
  topic: string,
  where: {
    namespace?: string;
    hub?: string;
    consumerGroup?: string;
    accountUrl?: string;
    container?: string;
  } = {},
) {
  return {
    topic,
    source: {
      fullyQualifiedNamespace: where.namespace ?? 'contoso.servicebus.windows.net',
      eventHubName: where.hub ?? topic,
      ...(where.consumerGroup ? { consumerGroup: where.consumerGroup } : {}),
      auth: { kind: 'workloadIdentity' as const },
    },
    destination: {
      kind: 'azureBlob' as const,
      account: {
        kind: 'workloadIdentity' as const,
        accountUrl: where.accountUrl ?? 'https://lake.blob.core.windows.net',
      },
      container: where.container ?? 'lake',
    },
  };
}
