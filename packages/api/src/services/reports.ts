import { Prisma, type PrismaClient } from '@hubcap/db';
import type { AgentReport, EventPosition } from '@hubcap/shared';
import type { AgentPrincipal } from '../context.ts';
import { AppError } from '../errors.ts';

const seq = (p: EventPosition | null) => (p ? String(p.sequenceNumber) : null);
const time = (p: EventPosition | null) => (p ? new Date(p.enqueuedTime) : null);

/**
 * Stores one validated report in a single transaction of set-based statements (one per table, not
 * one per partition), so ingestion keeps up with hundreds of agents: partition states and their
 * rates, one metric sample (with the files written since the agent's previous report), the agent's
 * last-seen time, and the errors and files it reported.
 */
export async function ingestReport(
  prisma: PrismaClient,
  agent: AgentPrincipal,
  report: AgentReport,
): Promise<{ configVersion: number }> {
  if (report.topic !== agent.topicName) {
    throw new AppError(
      'FORBIDDEN',
      `this agent token belongs to topic "${agent.topicName}", not "${report.topic}"`,
    );
  }
  const now = new Date();
  const at = new Date(report.sentAt);
  const { topicId, agentId } = agent;
  const lagEvents = report.partitions.reduce((sum, p) => sum + p.lagEvents, 0);
  const lagSeconds = report.partitions.reduce((max, p) => Math.max(max, p.lagSeconds), 0);
  const statements: Prisma.PrismaPromise<unknown>[] = [];

  if (report.partitions.length > 0) {
    const rows = report.partitions.map(
      (p) => Prisma.sql`(${topicId}, ${p.partitionId}, ${agentId},
        ${seq(p.lastEnqueued)}::bigint, ${p.lastEnqueued?.offset ?? null}, ${time(p.lastEnqueued)}::timestamp,
        ${seq(p.lastReceived)}::bigint, ${p.lastReceived?.offset ?? null}, ${time(p.lastReceived)}::timestamp,
        ${seq(p.lastCheckpointed)}::bigint, ${p.lastCheckpointed?.offset ?? null}, ${time(p.lastCheckpointed)}::timestamp,
        ${String(p.lagEvents)}::bigint, ${p.lagSeconds}::float8, ${p.eventsPerSecond}::float8, ${p.bytesPerSecond}::float8,
        ${now}::timestamp)`,
    );
    statements.push(prisma.$executeRaw`
      INSERT INTO "PartitionState" ("topicId", "partitionId", "agentInstanceId",
        "lastEnqueuedSequenceNumber", "lastEnqueuedOffset", "lastEnqueuedTime",
        "lastReceivedSequenceNumber", "lastReceivedOffset", "lastReceivedTime",
        "lastCheckpointSequenceNumber", "lastCheckpointOffset", "lastCheckpointTime",
        "lagEvents", "lagSeconds", "eventsPerSecond", "bytesPerSecond", "updatedAt")
      VALUES ${Prisma.join(rows)}
      ON CONFLICT ("topicId", "partitionId") DO UPDATE SET
        "agentInstanceId" = EXCLUDED."agentInstanceId",
        "lastEnqueuedSequenceNumber" = EXCLUDED."lastEnqueuedSequenceNumber",
        "lastEnqueuedOffset" = EXCLUDED."lastEnqueuedOffset",
        "lastEnqueuedTime" = EXCLUDED."lastEnqueuedTime",
        "lastReceivedSequenceNumber" = EXCLUDED."lastReceivedSequenceNumber",
        "lastReceivedOffset" = EXCLUDED."lastReceivedOffset",
        "lastReceivedTime" = EXCLUDED."lastReceivedTime",
        "lastCheckpointSequenceNumber" = EXCLUDED."lastCheckpointSequenceNumber",
        "lastCheckpointOffset" = EXCLUDED."lastCheckpointOffset",
        "lastCheckpointTime" = EXCLUDED."lastCheckpointTime",
        "lagEvents" = EXCLUDED."lagEvents",
        "lagSeconds" = EXCLUDED."lagSeconds",
        "eventsPerSecond" = EXCLUDED."eventsPerSecond",
        "bytesPerSecond" = EXCLUDED."bytesPerSecond",
        "updatedAt" = EXCLUDED."updatedAt"`);
  }

  // The agent reports its files total since it started; the delta since its previous report is what
  // the per-hour figures add up (after a restart the total starts again from zero).
  statements.push(prisma.$executeRaw`
    WITH prev AS (SELECT "filesWritten" AS files FROM "AgentInstance" WHERE id = ${agentId} FOR UPDATE),
    agent AS (
      UPDATE "AgentInstance" SET "lastSeenAt" = ${now}::timestamp, "agentVersion" = ${report.agentVersion},
        "filesWritten" = ${report.filesWritten}::int, "updatedAt" = ${now}::timestamp
      WHERE id = ${agentId}
    )
    INSERT INTO "MetricSample" ("topicId", "agentInstanceId", at, "eventsPerSecond", "bytesPerSecond",
      "lagEvents", "lagSeconds", "filesWritten", "filesDelta", "errorCount")
    SELECT ${topicId}, ${agentId}, ${at}::timestamp, ${report.eventsPerSecond}::float8, ${report.bytesPerSecond}::float8,
      ${String(lagEvents)}::bigint, ${lagSeconds}::float8, ${report.filesWritten}::int,
      CASE WHEN ${report.filesWritten}::int >= prev.files THEN ${report.filesWritten}::int - prev.files
        ELSE ${report.filesWritten}::int END,
      ${report.errors.length}::int
    FROM prev`);

  if (report.errors.length > 0) {
    const rows = report.errors.map(
      (e) => Prisma.sql`(${topicId}, ${agentId}, ${new Date(e.at)}::timestamp, ${e.kind}::"AgentErrorKind",
        ${e.message}, ${e.partitionId ?? null}, ${e.retryable})`,
    );
    statements.push(prisma.$executeRaw`
      INSERT INTO "TopicError" ("topicId", "agentInstanceId", at, kind, message, "partitionId", retryable)
      VALUES ${Prisma.join(rows)}`);
  }

  if (report.recentFiles && report.recentFiles.length > 0) {
    const rows = report.recentFiles.map(
      (
        f,
      ) => Prisma.sql`(${topicId}, ${agentId}, ${f.path}, ${f.partitionId}, ${f.events}::int, ${String(f.bytes)}::bigint,
        ${String(f.firstSequenceNumber)}::bigint, ${String(f.lastSequenceNumber)}::bigint, ${new Date(f.committedAt)}::timestamp)`,
    );
    statements.push(prisma.$executeRaw`
      INSERT INTO "TopicFile" ("topicId", "agentInstanceId", path, "partitionId", events, bytes,
        "firstSequenceNumber", "lastSequenceNumber", "committedAt")
      VALUES ${Prisma.join(rows)}`);
  }

  const [topic] = await prisma.$transaction([
    prisma.topic.findUniqueOrThrow({ where: { id: topicId }, select: { configVersion: true } }),
    ...statements,
  ]);
  return { configVersion: (topic as { configVersion: number }).configVersion };
}
