import type { Prisma, PrismaClient } from '@hubcap/db';
import type { AgentReport, EventPosition } from '@hubcap/shared';
import type { AgentPrincipal } from '../context.ts';
import { AppError } from '../errors.ts';
import { deadLettersByReason, recordDeadLetters } from './dead-letters.ts';
import { recordSchemaVersions } from './schema-history.ts';

const seq = (p: EventPosition | null) => (p ? String(p.sequenceNumber) : null);

/**
 * Stores one validated report in a single SQL statement (one round trip, atomic): the partition
 * states and their rates, one metric sample (with the files written since the agent's previous
 * report), the agent's last-seen time, and the errors and files it reported. Rows travel as one JSON
 * parameter each, so the cost hardly grows with the number of partitions.
 *
 * A report that carries dead letters or new schema versions is stored in one transaction with them:
 * dead letters are counted per replica (see recordDeadLetters), schema versions once per topic.
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
  const ids = new Set(report.partitions.map((p) => p.partitionId));
  if (ids.size !== report.partitions.length) {
    throw new AppError('BAD_REQUEST', 'partitions: each partitionId may appear only once per report');
  }
  const now = new Date();
  if (report.deadLettered === 0 && !report.schemaVersions?.length) {
    return storeReport(prisma, agent, report, now, 0);
  }
  return prisma.$transaction(async (tx) => {
    const deadLettered =
      report.deadLettered > 0
        ? await recordDeadLetters(tx, {
            topicId: agent.topicId,
            replicaId: report.agentId,
            startedAt: report.startedAt,
            byReason: deadLettersByReason(report),
            now,
          })
        : 0;
    await recordSchemaVersions(tx, agent, report.agentId, report.schemaVersions ?? [], now);
    return storeReport(tx, agent, report, now, deadLettered);
  });
}

async function storeReport(
  db: PrismaClient | Prisma.TransactionClient,
  agent: AgentPrincipal,
  report: AgentReport,
  now: Date,
  deadLettered: number,
): Promise<{ configVersion: number }> {
  const { topicId, agentId } = agent;
  const lagEvents = report.partitions.reduce((sum, p) => sum + p.lagEvents, 0);
  const lagSeconds = report.partitions.reduce((max, p) => Math.max(max, p.lagSeconds), 0);
  // Times are ISO strings in UTC; PostgreSQL's `timestamp` (without zone) keeps their UTC wall time.
  const partitions = JSON.stringify(
    report.partitions.map((p) => ({
      partitionId: p.partitionId,
      enqueuedSeq: seq(p.lastEnqueued),
      enqueuedOffset: p.lastEnqueued?.offset ?? null,
      enqueuedTime: p.lastEnqueued?.enqueuedTime ?? null,
      receivedSeq: seq(p.lastReceived),
      receivedOffset: p.lastReceived?.offset ?? null,
      receivedTime: p.lastReceived?.enqueuedTime ?? null,
      checkpointSeq: seq(p.lastCheckpointed),
      checkpointOffset: p.lastCheckpointed?.offset ?? null,
      checkpointTime: p.lastCheckpointed?.enqueuedTime ?? null,
      lagEvents: String(p.lagEvents),
      lagSeconds: p.lagSeconds,
      eventsPerSecond: p.eventsPerSecond,
      bytesPerSecond: p.bytesPerSecond,
    })),
  );
  const errors = JSON.stringify(report.errors);
  const files = JSON.stringify(report.recentFiles ?? []);

  const rows = await db.$queryRaw<{ configVersion: number }[]>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${partitions}::jsonb) AS p("partitionId" text,
        "enqueuedSeq" bigint, "enqueuedOffset" text, "enqueuedTime" timestamp,
        "receivedSeq" bigint, "receivedOffset" text, "receivedTime" timestamp,
        "checkpointSeq" bigint, "checkpointOffset" text, "checkpointTime" timestamp,
        "lagEvents" bigint, "lagSeconds" float8, "eventsPerSecond" float8, "bytesPerSecond" float8)
    ),
    partitions AS (
      INSERT INTO "PartitionState" ("topicId", "partitionId", "agentInstanceId",
        "lastEnqueuedSequenceNumber", "lastEnqueuedOffset", "lastEnqueuedTime",
        "lastReceivedSequenceNumber", "lastReceivedOffset", "lastReceivedTime",
        "lastCheckpointSequenceNumber", "lastCheckpointOffset", "lastCheckpointTime",
        "lagEvents", "lagSeconds", "eventsPerSecond", "bytesPerSecond", "updatedAt")
      SELECT ${topicId}, p."partitionId", ${agentId}, p."enqueuedSeq", p."enqueuedOffset", p."enqueuedTime",
        p."receivedSeq", p."receivedOffset", p."receivedTime", p."checkpointSeq", p."checkpointOffset",
        p."checkpointTime", p."lagEvents", p."lagSeconds", p."eventsPerSecond", p."bytesPerSecond", ${now}::timestamp
      FROM input p
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
        "updatedAt" = EXCLUDED."updatedAt"
    ),
    -- The agent reports its files total since it started; the delta since its previous report is
    -- what the per-hour figures add up (after a restart the total starts again from zero).
    prev AS (SELECT "filesWritten" AS files FROM "AgentInstance" WHERE id = ${agentId} FOR UPDATE),
    agent AS (
      UPDATE "AgentInstance" SET "lastSeenAt" = ${now}::timestamp, "agentVersion" = ${report.agentVersion},
        "filesWritten" = ${report.filesWritten}::int, "updatedAt" = ${now}::timestamp
      WHERE id = ${agentId}
    ),
    sample AS (
      INSERT INTO "MetricSample" ("topicId", "agentInstanceId", at, "eventsPerSecond", "bytesPerSecond",
        "lagEvents", "lagSeconds", "filesWritten", "filesDelta", "errorCount", "deadLettered")
      SELECT ${topicId}, ${agentId}, ${report.sentAt}::timestamp, ${report.eventsPerSecond}::float8,
        ${report.bytesPerSecond}::float8, ${String(lagEvents)}::bigint, ${lagSeconds}::float8,
        ${report.filesWritten}::int,
        CASE WHEN ${report.filesWritten}::int >= prev.files THEN ${report.filesWritten}::int - prev.files
          ELSE ${report.filesWritten}::int END,
        ${report.errors.length}::int, ${deadLettered}::int
      FROM prev
    ),
    errors AS (
      INSERT INTO "TopicError" ("topicId", "agentInstanceId", at, kind, message, "partitionId", retryable)
      SELECT ${topicId}, ${agentId}, e.at, e.kind::"AgentErrorKind", e.message, e."partitionId", e.retryable
      FROM jsonb_to_recordset(${errors}::jsonb)
        AS e(at timestamp, kind text, message text, "partitionId" text, retryable boolean)
    ),
    files AS (
      INSERT INTO "TopicFile" ("topicId", "agentInstanceId", path, "partitionId", events, bytes,
        "firstSequenceNumber", "lastSequenceNumber", "committedAt")
      SELECT ${topicId}, ${agentId}, f.path, f."partitionId", f.events, f.bytes, f."firstSequenceNumber",
        f."lastSequenceNumber", f."committedAt"
      FROM jsonb_to_recordset(${files}::jsonb) AS f(path text, "partitionId" text, events int, bytes bigint,
        "firstSequenceNumber" bigint, "lastSequenceNumber" bigint, "committedAt" timestamp)
    )
    SELECT "configVersion" FROM "Topic" WHERE id = ${topicId}`;
  const topic = rows[0];
  if (!topic) throw new AppError('NOT_FOUND', 'this agent’s topic no longer exists');
  return { configVersion: topic.configVersion };
}
