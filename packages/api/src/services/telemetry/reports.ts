import { Prisma, type PrismaClient } from '@hubcap/db';
import type { AgentReport, EventPosition } from '@hubcap/shared';
import type { ReportingAgent } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { recordSchemaVersions } from '../schema/schema-history.ts';
import { deadLettersByReason, MAX_TOPIC_DEAD_LETTER_REASONS } from './dead-letters.ts';

const seq = (p: EventPosition | null) => (p ? String(p.sequenceNumber) : null);

/**
 * Stores one validated report in a single SQL statement (one round trip, atomic): the partition
 * states and their rates, the replica's totals, one metric sample (with what the replica wrote and
 * dead-lettered since its previous report), the agent's last-seen time, and the errors and files it
 * reported. Rows travel as one JSON parameter each, so the cost hardly grows with the number of partitions.
 *
 * A report that carries new schema versions is stored in one transaction with them (once per topic).
 */
export async function ingestReport(
  prisma: PrismaClient,
  agent: ReportingAgent,
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
  if (!report.schemaVersions?.length) return storeReport(prisma, agent, report, now);
  return prisma.$transaction(async (tx) => {
    await recordSchemaVersions(tx, agent, report.agentId, report.schemaVersions ?? [], now);
    return storeReport(tx, agent, report, now);
  });
}

async function storeReport(
  db: PrismaClient | Prisma.TransactionClient,
  agent: ReportingAgent,
  report: AgentReport,
  now: Date,
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
  const configIssue = report.configIssue ? JSON.stringify(report.configIssue) : null;
  const files = JSON.stringify(report.recentFiles ?? []);
  const deadLettered = JSON.stringify(report.deadLettered > 0 ? deadLettersByReason(report) : {});
  // Most reports carry no dead letters: their statement skips the per-reason arithmetic (a run
  // without dead letters so far keeps an empty map, a new run starts with one).
  const dead = report.deadLettered > 0;
  const deadLetterSet = dead
    ? Prisma.sql`"deadLetteredByReason" = CASE WHEN EXCLUDED."startedAt" > r."startedAt" THEN EXCLUDED."deadLetteredByReason"
          WHEN EXCLUDED."startedAt" = r."startedAt" THEN r."deadLetteredByReason" || coalesce((
            SELECT jsonb_object_agg(key, value::bigint) FROM jsonb_each_text(EXCLUDED."deadLetteredByReason")
            WHERE value::bigint > coalesce((r."deadLetteredByReason"->>key)::bigint, 0)), '{}')
          ELSE r."deadLetteredByReason" END,
        "deadLetteredDelta" = CASE WHEN EXCLUDED."startedAt" > r."startedAt" THEN EXCLUDED."deadLetteredByReason"
          WHEN EXCLUDED."startedAt" = r."startedAt" THEN coalesce((
            SELECT jsonb_object_agg(key, value::bigint - coalesce((r."deadLetteredByReason"->>key)::bigint, 0))
            FROM jsonb_each_text(EXCLUDED."deadLetteredByReason")
            WHERE value::bigint > coalesce((r."deadLetteredByReason"->>key)::bigint, 0)), '{}')
          ELSE '{}' END`
    : Prisma.sql`"deadLetteredByReason" = CASE WHEN EXCLUDED."startedAt" > r."startedAt" THEN '{}'::jsonb
          ELSE r."deadLetteredByReason" END,
        "deadLetteredDelta" = '{}'::jsonb`;
  const deadLetterCtes = dead
    ? Prisma.sql`dead AS (
      SELECT d.key AS reason, d.value::bigint AS n FROM replica, jsonb_each_text(replica."deadLetteredDelta") d
    ),
    dead_counts AS (
      INSERT INTO "TopicDeadLetter" ("topicId", reason, count, "lastAt", "updatedAt")
      SELECT ${topicId}, folded.reason, sum(n), ${now}::timestamp, ${now}::timestamp FROM (
        -- A topic keeps at most MAX_TOPIC_DEAD_LETTER_REASONS reasons; new ones beyond count as "other".
        SELECT CASE WHEN known.reason IS NOT NULL THEN dead.reason
          WHEN kept.n + row_number() OVER (PARTITION BY known.reason IS NULL ORDER BY dead.reason)
            <= ${MAX_TOPIC_DEAD_LETTER_REASONS} THEN dead.reason
          ELSE 'other' END AS reason, dead.n
        FROM dead
        LEFT JOIN "TopicDeadLetter" known ON known."topicId" = ${topicId} AND known.reason = dead.reason
        CROSS JOIN (SELECT count(*) AS n FROM "TopicDeadLetter" WHERE "topicId" = ${topicId}) kept
      ) folded GROUP BY folded.reason
      ON CONFLICT ("topicId", reason) DO UPDATE SET count = "TopicDeadLetter".count + EXCLUDED.count,
        "lastAt" = EXCLUDED."lastAt", "updatedAt" = EXCLUDED."updatedAt"
    ),`
    : Prisma.empty;
  const deadLetterCount = dead ? Prisma.sql`(SELECT coalesce(sum(n), 0) FROM dead)::int` : Prisma.sql`0`;

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
        -- A replica that has not written its first file since it started reports no checkpoint:
        -- the stored one is still true.
        "lastCheckpointSequenceNumber" = coalesce(EXCLUDED."lastCheckpointSequenceNumber",
          "PartitionState"."lastCheckpointSequenceNumber"),
        "lastCheckpointOffset" = CASE WHEN EXCLUDED."lastCheckpointSequenceNumber" IS NULL
          THEN "PartitionState"."lastCheckpointOffset" ELSE EXCLUDED."lastCheckpointOffset" END,
        "lastCheckpointTime" = CASE WHEN EXCLUDED."lastCheckpointSequenceNumber" IS NULL
          THEN "PartitionState"."lastCheckpointTime" ELSE EXCLUDED."lastCheckpointTime" END,
        "lagEvents" = EXCLUDED."lagEvents",
        "lagSeconds" = EXCLUDED."lagSeconds",
        "eventsPerSecond" = EXCLUDED."eventsPerSecond",
        "bytesPerSecond" = EXCLUDED."bytesPerSecond",
        "updatedAt" = EXCLUDED."updatedAt"
    ),
    -- Agents report totals since they started. A replica (the report's agentId; replicas share the
    -- token) is known by its start time: a report of the same run adds what it reports beyond the
    -- highest total seen so far (a retried or late report adds nothing), a newer run starts again from
    -- its own totals, a report of an older run adds nothing. ON CONFLICT takes the row lock, so
    -- concurrent reports of one replica cannot count the same files twice.
    replica AS (
      INSERT INTO "AgentReplica" AS r ("topicId", "replicaId", "startedAt", "eventsWritten", "bytesWritten",
        "filesWritten", "deadLetteredByReason", "eventsDelta", "bytesDelta", "filesDelta", "deadLetteredDelta",
        "configVersion", "configIssue", "lastSeenAt", "updatedAt")
      VALUES (${topicId}, ${report.agentId}, ${report.startedAt}::timestamp, ${report.eventsWritten}::bigint,
        ${report.bytesWritten}::bigint, ${report.filesWritten}::bigint, ${deadLettered}::jsonb,
        ${report.eventsWritten}::bigint, ${report.bytesWritten}::bigint, ${report.filesWritten}::bigint,
        ${deadLettered}::jsonb, ${report.configVersion ?? null}::int, ${configIssue}::jsonb, ${now}::timestamp,
        ${now}::timestamp)
      ON CONFLICT ("topicId", "replicaId") DO UPDATE SET
        "startedAt" = greatest(r."startedAt", EXCLUDED."startedAt"),
        "eventsWritten" = CASE WHEN EXCLUDED."startedAt" > r."startedAt" THEN EXCLUDED."eventsWritten"
          WHEN EXCLUDED."startedAt" = r."startedAt" THEN greatest(r."eventsWritten", EXCLUDED."eventsWritten")
          ELSE r."eventsWritten" END,
        "bytesWritten" = CASE WHEN EXCLUDED."startedAt" > r."startedAt" THEN EXCLUDED."bytesWritten"
          WHEN EXCLUDED."startedAt" = r."startedAt" THEN greatest(r."bytesWritten", EXCLUDED."bytesWritten")
          ELSE r."bytesWritten" END,
        "filesWritten" = CASE WHEN EXCLUDED."startedAt" > r."startedAt" THEN EXCLUDED."filesWritten"
          WHEN EXCLUDED."startedAt" = r."startedAt" THEN greatest(r."filesWritten", EXCLUDED."filesWritten")
          ELSE r."filesWritten" END,
        "eventsDelta" = CASE WHEN EXCLUDED."startedAt" > r."startedAt" THEN EXCLUDED."eventsWritten"
          WHEN EXCLUDED."startedAt" = r."startedAt" THEN greatest(EXCLUDED."eventsWritten" - r."eventsWritten", 0)
          ELSE 0 END,
        "bytesDelta" = CASE WHEN EXCLUDED."startedAt" > r."startedAt" THEN EXCLUDED."bytesWritten"
          WHEN EXCLUDED."startedAt" = r."startedAt" THEN greatest(EXCLUDED."bytesWritten" - r."bytesWritten", 0)
          ELSE 0 END,
        "filesDelta" = CASE WHEN EXCLUDED."startedAt" > r."startedAt" THEN EXCLUDED."filesWritten"
          WHEN EXCLUDED."startedAt" = r."startedAt" THEN greatest(EXCLUDED."filesWritten" - r."filesWritten", 0)
          ELSE 0 END,
        ${deadLetterSet},
        "configVersion" = CASE WHEN EXCLUDED."startedAt" >= r."startedAt" THEN EXCLUDED."configVersion"
          ELSE r."configVersion" END,
        "configIssue" = CASE WHEN EXCLUDED."startedAt" >= r."startedAt" THEN EXCLUDED."configIssue"
          ELSE r."configIssue" END,
        "lastSeenAt" = EXCLUDED."lastSeenAt", "updatedAt" = EXCLUDED."updatedAt"
      RETURNING "eventsDelta", "bytesDelta", "filesDelta", "deadLetteredDelta"
    ),
    ${deadLetterCtes}
    agent AS (
      UPDATE "AgentInstance" SET "lastSeenAt" = ${now}::timestamp, "agentVersion" = ${report.agentVersion},
        "updatedAt" = ${now}::timestamp
      WHERE id = ${agentId}
    ),
    -- The sample is timed by the server's clock, not the agent's sentAt: the rollup only revisits the
    -- last few minutes, so a skewed agent clock would keep the sample's deltas out of MetricMinute.
    sample AS (
      INSERT INTO "MetricSample" ("topicId", "agentInstanceId", "replicaId", at, "eventsPerSecond", "bytesPerSecond",
        "lagEvents", "lagSeconds", "filesWritten", "filesDelta", "eventsDelta", "bytesDelta", "errorCount",
        "deadLettered")
      SELECT ${topicId}, ${agentId}, ${report.agentId}, ${now}::timestamp, ${report.eventsPerSecond}::float8,
        ${report.bytesPerSecond}::float8, ${String(lagEvents)}::bigint, ${lagSeconds}::float8,
        ${report.filesWritten}::int, replica."filesDelta"::int, replica."eventsDelta", replica."bytesDelta",
        ${report.errors.length}::int, ${deadLetterCount}
      FROM replica
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
