import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Prisma, PrismaClient } from '@hubcap/db';
import { checkpointBlobPrefix, checkpointNamespace, type TopicConfig } from '@hubcap/shared';
import type { SecretBox } from '../../auth/secret-box.ts';
import {
  consumerFor,
  describe,
  type PartitionInfo,
  readPartitions,
  receive,
  storageService,
  withTimeout,
} from '../topics/connection.ts';
import { loadAgentConfig } from '../topics/topic-configs.ts';

/** A partition's checkpoint as the checkpoint store holds it, with the time it was written. */
export interface StoredCheckpoint {
  sequenceNumber: number;
  writtenAt: Date;
}

/**
 * The topic's checkpoints, read from its checkpoint store the way its agents write them (the
 * topic's own prefix; for partitions without one, the shared layout agents used before).
 */
export async function readCheckpoints(
  config: TopicConfig,
  namespace: string,
  eventHubName: string,
): Promise<Map<string, StoredCheckpoint>> {
  const { destination, source } = config;
  const found = new Map<string, StoredCheckpoint>();
  if (destination.kind === 'localFolder') {
    // FileCheckpointStore: <folder>/.hubcap/checkpoints/<namespace>/<hub>/<group>/checkpoint/<partition>.json
    const root = join(destination.path, '.hubcap', 'checkpoints');
    // A folder this server cannot see (the agent runs elsewhere) says nothing about the checkpoints.
    if (!(await stat(root).catch(() => null))?.isDirectory())
      throw new Error(`the checkpoint folder ${root} is not readable from the control plane`);
    const safe = (part: string) => encodeURIComponent(part.toLowerCase());
    for (const ns of [checkpointNamespace(config.topic, namespace), namespace]) {
      const dir = join(root, safe(ns), safe(eventHubName), safe(source.consumerGroup), 'checkpoint');
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names.filter((n) => n.endsWith('.json'))) {
        const partitionId = decodeURIComponent(name.slice(0, -5));
        if (found.has(partitionId)) continue;
        const file = join(dir, name);
        const record = JSON.parse(await readFile(file, 'utf8')) as { sequenceNumber: number };
        found.set(partitionId, {
          sequenceNumber: record.sequenceNumber,
          writtenAt: (await stat(file)).mtime,
        });
      }
    }
    return found;
  }
  const service = storageService(destination.account);
  const container = service.getContainerClient(destination.checkpointContainer);
  for (const topic of [config.topic, null]) {
    const prefix = checkpointBlobPrefix(topic, namespace, eventHubName, source.consumerGroup);
    for await (const blob of container.listBlobsFlat({ prefix, includeMetadata: true })) {
      const partitionId = blob.name.slice(prefix.length);
      const sequenceNumber = Number(blob.metadata?.sequencenumber);
      if (found.has(partitionId) || !Number.isSafeInteger(sequenceNumber)) continue;
      found.set(partitionId, { sequenceNumber, writtenAt: blob.properties.lastModified });
    }
  }
  return found;
}

/**
 * The topic's checkpoints within the store's timeout; none when the checkpoint container does not exist
 * yet (no agent of the topic ever checkpointed). Other failures are the caller's to word.
 */
export async function readStoredCheckpoints(
  config: TopicConfig,
  namespace: string,
  eventHubName: string,
): Promise<Map<string, StoredCheckpoint>> {
  return withTimeout('the checkpoint store', readCheckpoints(config, namespace, eventHubName)).catch(
    (error) => {
      if ((error as { statusCode?: number }).statusCode === 404) return new Map<string, StoredCheckpoint>();
      throw error;
    },
  );
}

export interface PartitionLag {
  partitionId: string;
  lastEnqueuedSequenceNumber: number | null;
  lastEnqueuedAt: Date | null;
  checkpoint: StoredCheckpoint | null;
  /** Events enqueued after the checkpoint that the hub still holds. */
  lagEvents: number;
  /** First sequence number not yet written (null when nothing waits). */
  firstUnwritten: number | null;
}

/** What waits to be written on one partition: everything the hub holds after the checkpoint. */
export function partitionLag(
  p: PartitionInfo,
  checkpoint: StoredCheckpoint | null,
  startPosition: 'earliest' | 'latest',
): PartitionLag {
  const base = {
    partitionId: p.partitionId,
    lastEnqueuedSequenceNumber: p.isEmpty ? null : p.lastEnqueuedSequenceNumber,
    lastEnqueuedAt: p.lastEnqueuedAt ? new Date(p.lastEnqueuedAt) : null,
    checkpoint,
  };
  // Without a checkpoint an agent starting at "latest" will skip what is there: none of it waits.
  const next = checkpoint
    ? Math.max(checkpoint.sequenceNumber + 1, p.beginningSequenceNumber)
    : startPosition === 'earliest'
      ? p.beginningSequenceNumber
      : p.lastEnqueuedSequenceNumber + 1;
  const lagEvents = p.isEmpty ? 0 : Math.max(0, p.lastEnqueuedSequenceNumber - next + 1);
  return { ...base, lagEvents, firstUnwritten: lagEvents > 0 ? next : null };
}

/** The enqueued time of the oldest unwritten event, read from the hub in the topic's own consumer group. */
async function oldestUnwrittenAt(
  client: ReturnType<typeof consumerFor>,
  partitionId: string,
  sequenceNumber: number,
): Promise<Date | null> {
  const [event] = await withTimeout('the event hub', receive(client, partitionId, sequenceNumber, 1, 1));
  return event?.enqueuedTimeUtc ?? null;
}

export interface TopicLagReading {
  partitions: (PartitionLag & { lagSeconds: number | null })[];
}

/**
 * Reads a topic's lag from Event Hubs and its checkpoint store, as the control plane sees it: needs no
 * agent. The age of the oldest unwritten event is read from the hub only when `readEvents` (an agent
 * running holds the partitions with an exclusive receiver, and reports that age itself).
 */
export async function readTopicLag(
  config: TopicConfig,
  options: { readEvents: boolean; now?: Date },
): Promise<TopicLagReading> {
  const now = options.now ?? new Date();
  const client = consumerFor(config);
  try {
    const partitions = await readPartitions(client);
    const checkpoints = await withTimeout(
      'the checkpoint store',
      readCheckpoints(config, client.fullyQualifiedNamespace, client.eventHubName),
    );
    const readings = [];
    for (const p of partitions) {
      const lag = partitionLag(p, checkpoints.get(p.partitionId) ?? null, config.source.startPosition);
      let lagSeconds: number | null = lag.lagEvents === 0 ? 0 : null;
      if (lag.firstUnwritten !== null && options.readEvents) {
        const at = await oldestUnwrittenAt(client, p.partitionId, lag.firstUnwritten).catch(() => null);
        if (at) lagSeconds = Math.max(0, (now.getTime() - at.getTime()) / 1000);
      }
      readings.push({ ...lag, lagSeconds });
    }
    return { partitions: readings };
  } finally {
    await client.close().catch(() => {});
  }
}

/** Agents that reported within this window hold their partitions: their own lag figures stand. */
const AGENT_FRESH_MS = 60_000;

/** Stores one reading: partition rows (the newest reading wins, agent report or probe) and a lag sample. */
async function storeReading(prisma: PrismaClient, topicId: string, reading: TopicLagReading, now: Date) {
  // An age the probe could not read (the agent's receiver holds the partition) keeps the agent's figure.
  const known = new Map(
    (
      await prisma.partitionState.findMany({
        where: { topicId },
        select: { partitionId: true, lagSeconds: true },
      })
    ).map((p) => [p.partitionId, p.lagSeconds]),
  );
  const partitions = reading.partitions.map((p) => ({
    ...p,
    lagSeconds: p.lagSeconds ?? known.get(p.partitionId) ?? 0,
  }));
  const rows = JSON.stringify(
    partitions.map((p) => ({
      partitionId: p.partitionId,
      enqueuedSeq: p.lastEnqueuedSequenceNumber === null ? null : String(p.lastEnqueuedSequenceNumber),
      enqueuedTime: p.lastEnqueuedAt?.toISOString() ?? null,
      checkpointSeq: p.checkpoint ? String(p.checkpoint.sequenceNumber) : null,
      checkpointedAt: p.checkpoint?.writtenAt.toISOString() ?? null,
      lagEvents: String(p.lagEvents),
      lagSeconds: p.lagSeconds,
    })),
  );
  const total = (f: (p: (typeof partitions)[number]) => number) =>
    partitions.reduce((sum, p) => sum + f(p), 0);
  await prisma.$transaction([
    prisma.$executeRaw`
      INSERT INTO "PartitionState" ("topicId", "partitionId", "lastEnqueuedSequenceNumber", "lastEnqueuedTime",
        "lastCheckpointSequenceNumber", "checkpointedAt", "lagEvents", "lagSeconds", "probedAt", "updatedAt")
      SELECT ${topicId}, p."partitionId", p."enqueuedSeq", p."enqueuedTime", p."checkpointSeq", p."checkpointedAt",
        p."lagEvents", p."lagSeconds", ${now}::timestamp, ${now}::timestamp
      FROM jsonb_to_recordset(${rows}::jsonb) AS p("partitionId" text, "enqueuedSeq" bigint, "enqueuedTime" timestamp,
        "checkpointSeq" bigint, "checkpointedAt" timestamp, "lagEvents" bigint, "lagSeconds" float8)
      ON CONFLICT ("topicId", "partitionId") DO UPDATE SET
        "lastEnqueuedSequenceNumber" = EXCLUDED."lastEnqueuedSequenceNumber",
        "lastEnqueuedTime" = EXCLUDED."lastEnqueuedTime",
        -- The checkpoint store is the truth about checkpoints: none there means none.
        "lastCheckpointSequenceNumber" = EXCLUDED."lastCheckpointSequenceNumber",
        "lastCheckpointOffset" = CASE WHEN EXCLUDED."lastCheckpointSequenceNumber" IS NULL THEN NULL
          ELSE "PartitionState"."lastCheckpointOffset" END,
        "lastCheckpointTime" = CASE WHEN EXCLUDED."lastCheckpointSequenceNumber" IS NULL THEN NULL
          ELSE "PartitionState"."lastCheckpointTime" END,
        "checkpointedAt" = EXCLUDED."checkpointedAt",
        "lagEvents" = EXCLUDED."lagEvents",
        "lagSeconds" = EXCLUDED."lagSeconds",
        "probedAt" = EXCLUDED."probedAt",
        "updatedAt" = EXCLUDED."updatedAt"`,
    prisma.lagSample.create({
      data: {
        topicId,
        at: now,
        lagEvents: BigInt(total((p) => p.lagEvents)),
        lagSeconds: Math.max(0, ...partitions.map((p) => p.lagSeconds)),
        enqueued: BigInt(total((p) => (p.lastEnqueuedSequenceNumber ?? -1) + 1)),
        checkpointed: BigInt(total((p) => (p.checkpoint?.sequenceNumber ?? -1) + 1)),
      },
    }),
  ]);
}

/** What tells whether a topic's agents should run and do (its desired state, deployment and agents). */
export const TOPIC_RUN_STATE = {
  id: true,
  slug: true,
  desiredState: true,
  deployment: { select: { phase: true } },
  agents: { select: { lastSeenAt: true }, where: { revokedAt: null } },
} satisfies Prisma.TopicSelect;

/**
 * One pass over every topic ever deployed (running, paused or removed): reads its lag from Event Hubs
 * and the checkpoint store and records it. A removed topic's lag still grows with every event, and its
 * page shows it. A topic that cannot be read is logged and left as it was.
 */
export async function probeLag(
  prisma: PrismaClient,
  box: SecretBox,
  options: { now?: Date; log?: (line: string) => void; concurrency?: number } = {},
): Promise<{ probed: number; failed: number }> {
  const now = options.now ?? new Date();
  const topics = await prisma.topic.findMany({
    where: { deployment: { isNot: null } },
    select: TOPIC_RUN_STATE,
  });
  let probed = 0;
  let failed = 0;
  const queue = [...topics];
  const worker = async () => {
    for (let topic = queue.shift(); topic; topic = queue.shift()) {
      // A running agent holds its partitions (and reports the age itself); a paused one holds nothing.
      const agentRunning =
        topic.desiredState === 'running' &&
        topic.deployment?.phase !== 'paused' &&
        topic.agents.some((a) => a.lastSeenAt && now.getTime() - a.lastSeenAt.getTime() < AGENT_FRESH_MS);
      try {
        const { config } = await loadAgentConfig(prisma, box, topic.id);
        const reading = await readTopicLag(config, { readEvents: !agentRunning, now });
        await storeReading(prisma, topic.id, reading, now);
        probed++;
      } catch (error) {
        failed++;
        options.log?.(`lag probe of ${topic.slug} failed: ${describe(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return { probed, failed };
}
