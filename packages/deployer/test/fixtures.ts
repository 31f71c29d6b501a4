import { TopicConfig, type TopicConfigInput } from '@hubcap/shared';
import type { KubernetesTarget } from '../src/manifests.ts';
import type { AgentDeploymentSpec } from '../src/types.ts';

export const EH_SECRET =
  'Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=EH-KEY-123=';
export const STORAGE_SECRET =
  'DefaultEndpointsProtocol=https;AccountName=lake;AccountKey=STORAGE-KEY-456==;EndpointSuffix=core.windows.net';
export const TOKEN = 'hca_test-token-789';

export const ordersConfig = (overrides: Partial<TopicConfigInput> = {}): TopicConfig =>
  TopicConfig.parse({
    topic: 'orders',
    source: {
      fullyQualifiedNamespace: 'contoso.servicebus.windows.net',
      eventHubName: 'orders',
      consumerGroup: 'hubcap',
      auth: { kind: 'connectionString', connectionString: EH_SECRET },
    },
    destination: {
      kind: 'azureBlob',
      account: { kind: 'connectionString', connectionString: STORAGE_SECRET },
      container: 'raw',
      prefix: 'eventhubs',
    },
    scaling: { replicas: 2, cpu: '500m', memory: '768Mi' },
    ...overrides,
  } satisfies TopicConfigInput);

export const workloadIdentityConfig = (): TopicConfig =>
  TopicConfig.parse({
    topic: 'clicks',
    source: {
      fullyQualifiedNamespace: 'contoso.servicebus.windows.net',
      eventHubName: 'clicks',
      auth: { kind: 'workloadIdentity', clientId: '3f2504e0-4f89-11d3-9a0c-0305e82c3301' },
    },
    destination: {
      kind: 'azureBlob',
      account: {
        kind: 'workloadIdentity',
        accountUrl: 'https://lake.blob.core.windows.net',
        clientId: '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
      },
      container: 'raw',
    },
    format: { type: 'avro', codec: 'deflate' },
  } satisfies TopicConfigInput);

export const spec = (config: TopicConfig = ordersConfig(), extra: Partial<AgentDeploymentSpec> = {}) =>
  ({
    topic: { id: 'cm1topic0orders', name: config.topic },
    config,
    configVersion: 3,
    agentToken: TOKEN,
    ...extra,
  }) satisfies AgentDeploymentSpec;

export const target: KubernetesTarget = {
  namespace: 'hubcap-agents',
  image: 'ghcr.io/acme/hubcap-agent:0.1.0',
  controlPlaneUrl: 'http://hubcap-web.hubcap.svc.cluster.local:3000',
  podDisruptionBudget: true,
};
