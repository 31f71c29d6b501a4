import { BlobServiceClient } from '@azure/storage-blob';
import { createTopic, type SecretBox, updateTopic } from '@hubcap/api';
import type { PrismaClient } from '@hubcap/db';

/**
 * The local Event Hubs: the demo topic reads "demo" with a consumer group of its own, and "trial" (with
 * its own group) is there to try onboarding on, so a newcomer's first topic never lands in the demo
 * topic's group and takes its partitions.
 */
export const DEMO_HUB = 'demo';
export const DEMO_CONSUMER_GROUP = 'hubcap-demo';
export const TRIAL_HUB = 'trial';
export const TRIAL_CONSUMER_GROUP = 'hubcap-trial';
export const LOCAL_HUBS = [
  { name: DEMO_HUB, partitionCount: 4, consumerGroups: [DEMO_CONSUMER_GROUP] },
  { name: TRIAL_HUB, partitionCount: 2, consumerGroups: [TRIAL_CONSUMER_GROUP] },
];

/** Marks the topic the launcher owns: it keeps it pointed at this run's local services. */
const DESCRIPTION = 'Sample traffic from the local Event Hubs server (created by npm start).';
const system = { actor: 'system' };

export interface DemoServices {
  eventHubsPort: number;
  eventHubsConnectionString: string;
  blobConnectionString: string;
}

/**
 * The `demo` topic, reading the local Event Hubs hub "demo" (consumer group "hubcap-demo") into the
 * Azurite container "demo". Created (with a pending local deployment, which the web server's reconcile
 * starts) when missing; kept in step with this run's ports and settings when the launcher created it.
 * A topic a user made or removed is left alone.
 */
export async function ensureDemoTopic(
  prisma: PrismaClient,
  box: SecretBox,
  services: DemoServices,
  log: (line: string) => void,
): Promise<void> {
  const config = {
    topic: 'demo',
    source: {
      fullyQualifiedNamespace: `127.0.0.1:${services.eventHubsPort}`,
      eventHubName: DEMO_HUB,
      consumerGroup: DEMO_CONSUMER_GROUP,
      auth: { kind: 'connectionString', connectionString: services.eventHubsConnectionString },
    },
    destination: {
      kind: 'azureBlob',
      account: { kind: 'connectionString', connectionString: services.blobConnectionString },
      container: 'demo',
    },
    batching: { maxAgeSeconds: 10 },
    reporting: { intervalSeconds: 5 },
  };
  const blobs = BlobServiceClient.fromConnectionString(services.blobConnectionString);
  await blobs.getContainerClient('demo').createIfNotExists();
  await blobs.getContainerClient('hubcap-checkpoints').createIfNotExists();

  const existing = await prisma.topic.findUnique({
    where: { slug: 'demo' },
    select: { id: true, description: true },
  });
  if (!existing) {
    const { id } = await createTopic(prisma, box, config, system);
    await prisma.topic.update({ where: { id }, data: { description: DESCRIPTION } });
    await prisma.deployment.create({
      data: { topicId: id, target: 'local', phase: 'pending', configVersion: 1, desiredReplicas: 1 },
    });
    log('created the "demo" topic; its agent lands files in the Azurite container "demo"');
    return;
  }
  if (existing.description !== DESCRIPTION) return;
  const updated = await updateTopic(prisma, box, existing.id, config, system);
  if (!updated.unchanged)
    log(`the "demo" topic now points at this run's ports (config version ${updated.version})`);
}
