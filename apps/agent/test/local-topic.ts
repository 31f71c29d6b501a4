import { TopicConfig, type TopicConfigInput } from '@hubcap/shared';

/** A valid TopicConfig writing to a local folder (unit tests that never reach Event Hubs). */
export function localTopic(path: string, more: Partial<TopicConfigInput> = {}): TopicConfig {
  return TopicConfig.parse({
    topic: 't',
    source: {
      fullyQualifiedNamespace: 'ns.servicebus.windows.net',
      eventHubName: 'h',
      auth: { kind: 'workloadIdentity' },
    },
    destination: { kind: 'localFolder', path },
    ...more,
  });
}
