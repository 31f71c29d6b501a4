import { EventHubProducerClient } from '@azure/event-hubs';
import type { AgentReport, TopicConfigInput } from '@hubcap/shared';

export const EH_SECRET =
  'Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=EH-KEY-123';
export const STORAGE_SECRET = 'DefaultEndpointsProtocol=https;AccountName=lake;AccountKey=STORAGE-KEY-456';

export const topicConfig = (topic: string, overrides: Partial<TopicConfigInput> = {}): TopicConfigInput => ({
  topic,
  source: {
    fullyQualifiedNamespace: 'contoso.servicebus.windows.net',
    eventHubName: topic,
    auth: { kind: 'connectionString', connectionString: EH_SECRET },
  },
  destination: {
    kind: 'azureBlob',
    account: { kind: 'connectionString', connectionString: STORAGE_SECRET },
    container: 'raw',
  },
  ...overrides,
});

/** A complete `settings.update` input (the webhook left as it is). */
export const settingsInput = {
  alerts: { lagSeconds: 300, lagMinutes: 5, silentMinutes: 5, errorCount: 3, errorMinutes: 10 },
  prices: {
    captureTuHour: 0.1,
    tuEventsPerSecond: 1000,
    tuMegabytesPerSecond: 1,
    vcpuHour: 0.034,
    gibHour: 0.0045,
  },
  retention: { rawHours: 24, minuteDays: 30 },
};

export const agentReport = (topic: string, overrides: Partial<AgentReport> = {}): AgentReport => ({
  agentId: `${topic}-0`,
  topic,
  agentVersion: '0.1.0',
  sentAt: new Date().toISOString(),
  startedAt: new Date(Date.now() - 60_000).toISOString(),
  ready: true,
  partitions: [0, 1].map((i) => ({
    partitionId: String(i),
    lastEnqueued: { sequenceNumber: 120, offset: '9000', enqueuedTime: '2026-03-07T09:05:02.000Z' },
    lastReceived: { sequenceNumber: 100, offset: '7000', enqueuedTime: '2026-03-07T09:05:00.000Z' },
    lastCheckpointed: { sequenceNumber: 90, offset: '6000', enqueuedTime: '2026-03-07T09:04:58.000Z' },
    lagEvents: 30,
    lagSeconds: 4,
    eventsPerSecond: 25,
    bytesPerSecond: 25_000,
  })),
  eventsPerSecond: 50,
  bytesPerSecond: 50_000,
  eventsWritten: 90,
  bytesWritten: 90_000,
  filesWritten: 1,
  deadLettered: 0,
  errors: [],
  ...overrides,
});

/** Sends `count` small JSON events to one partition of `hub`, in one batch. */
export async function sendEvents(connectionString: string, hub: string, partitionId: string, count: number) {
  const producer = new EventHubProducerClient(connectionString, hub);
  try {
    const batch = await producer.createBatch({ partitionId });
    for (let i = 0; i < count; i++) batch.tryAdd({ body: { i } });
    await producer.sendBatch(batch);
  } finally {
    await producer.close();
  }
}
