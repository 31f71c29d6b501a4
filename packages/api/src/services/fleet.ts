import type { PrismaClient } from '@hubcap/db';
import type { AgentReport } from '@hubcap/shared';
import { AppError } from '../errors.ts';
import { type CostEstimate, estimateCost } from './cost.ts';
import { deadLetterLocation } from './dead-letters.ts';
import { schemaOverview } from './schema-history.ts';
import { getSettings, type Settings } from './settings.ts';
import { type TopicStatus, topicStatus } from './status.ts';

interface FleetRow {
  id: string;
  slug: string;
  desiredState: 'running' | 'paused';
  configVersion: number;
  phase: string | null;
  readyReplicas: number | null;
  desiredReplicas: number | null;
  scaling: { replicas: number; cpu: string; memory: string } | null;
  partitions: bigint | null;
  lagEvents: bigint | null;
  lagSeconds: number | null;
  eventsPerSecond: number | null;
  bytesPerSecond: number | null;
  lastCheckpointTime: Date | null;
  lastSeenAt: Date | null;
  filesLastHour: bigint | null;
  eventsLastHour: bigint | null;
  bytesLastHour: bigint | null;
  recentErrors: bigint | null;
  openAlerts: bigint | null;
  deadLettered: bigint | null;
  deadLetteredLastHour: bigint | null;
  schemaChanges: bigint | null;
}

export interface TopicSummary {
  id: string;
  name: string;
  status: TopicStatus;
  desiredState: 'running' | 'paused';
  configVersion: number;
  deployment: { phase: string; readyReplicas: number; desiredReplicas: number } | null;
  partitions: number;
  lagEvents: number;
  lagSeconds: number;
  eventsPerSecond: number;
  megabytesPerSecond: number;
  lastCheckpointAt: string | null;
  lastSeenAt: string | null;
  /** Files, events and bytes written in the last hour, by all replicas. */
  filesPerHour: number;
  eventsLastHour: number;
  bytesLastHour: number;
  recentErrors: number;
  openAlerts: number;
  /** Events written to `_deadletter/` instead of the data, ever (all replicas, across restarts). */
  deadLettered: number;
  deadLetteredLastHour: number;
  /** Schema versions after the first that nobody acknowledged yet. */
  schemaChanges: number;
  cost: CostEstimate;
}

/**
 * Every topic with its status and current figures, in one query: per-partition rows are summed,
 * files per hour come from the per-minute rollups, so the cost does not grow with raw samples.
 */
async function summaries(
  prisma: PrismaClient,
  settings: Settings,
  topicId: string | null,
): Promise<TopicSummary[]> {
  const now = new Date();
  const errorSince = new Date(now.getTime() - settings.alerts.errorMinutes * 60_000);
  const hourAgo = new Date(now.getTime() - 3_600_000);
  const rows = await prisma.$queryRaw<FleetRow[]>`
    SELECT t.id, t.slug, t."desiredState"::text AS "desiredState", t."configVersion",
      d.phase::text AS phase, d."readyReplicas", d."desiredReplicas",
      v.config->'scaling' AS scaling,
      p.partitions, p."lagEvents", p."lagSeconds", p."eventsPerSecond", p."bytesPerSecond", p."lastCheckpointTime",
      a."lastSeenAt", f.files AS "filesLastHour",
      f.events AS "eventsLastHour", f.bytes AS "bytesLastHour", e.errors AS "recentErrors", al.alerts AS "openAlerts",
      dl.dead AS "deadLettered", f.dead AS "deadLetteredLastHour", sv.changes AS "schemaChanges"
    FROM "Topic" t
    LEFT JOIN "Deployment" d ON d."topicId" = t.id
    LEFT JOIN "TopicConfigVersion" v ON v."topicId" = t.id AND v.version = t."configVersion"
    LEFT JOIN (
      SELECT "topicId", count(*) AS partitions, sum("lagEvents") AS "lagEvents", max("lagSeconds") AS "lagSeconds",
        sum("eventsPerSecond") AS "eventsPerSecond", sum("bytesPerSecond") AS "bytesPerSecond",
        max("lastCheckpointTime") AS "lastCheckpointTime"
      FROM "PartitionState" GROUP BY "topicId"
    ) p ON p."topicId" = t.id
    LEFT JOIN (
      SELECT "topicId", max("lastSeenAt") AS "lastSeenAt" FROM "AgentInstance" WHERE "revokedAt" IS NULL GROUP BY "topicId"
    ) a ON a."topicId" = t.id
    LEFT JOIN (
      SELECT "topicId", sum(files) AS files, sum(events) AS events, sum(bytes) AS bytes,
        sum("deadLettered") AS dead FROM "MetricMinute"
      WHERE minute >= ${hourAgo} GROUP BY "topicId"
    ) f ON f."topicId" = t.id
    LEFT JOIN (
      SELECT "topicId", count(*) AS errors FROM "TopicError" WHERE at >= ${errorSince} GROUP BY "topicId"
    ) e ON e."topicId" = t.id
    LEFT JOIN (
      SELECT "topicId", count(*) AS alerts FROM "Alert" WHERE "resolvedAt" IS NULL GROUP BY "topicId"
    ) al ON al."topicId" = t.id
    LEFT JOIN (
      SELECT "topicId", sum(count) AS dead FROM "TopicDeadLetter" GROUP BY "topicId"
    ) dl ON dl."topicId" = t.id
    LEFT JOIN (
      SELECT "topicId", count(*) AS changes FROM "TopicSchemaVersion"
      WHERE "acknowledgedAt" IS NULL AND version > 1 GROUP BY "topicId"
    ) sv ON sv."topicId" = t.id
    WHERE (${topicId}::text IS NULL OR t.id = ${topicId}::text)
    ORDER BY t.slug`;
  return rows.map((r) => {
    const eventsPerSecond = r.eventsPerSecond ?? 0;
    const bytesPerSecond = r.bytesPerSecond ?? 0;
    const recentErrors = Number(r.recentErrors ?? 0);
    const lagSeconds = r.lagSeconds ?? 0;
    return {
      id: r.id,
      name: r.slug,
      status: topicStatus(
        {
          desiredState: r.desiredState,
          deploymentPhase: r.phase,
          lastSeenAt: r.lastSeenAt,
          lagSeconds,
          recentErrors,
          now,
        },
        settings.alerts,
      ),
      desiredState: r.desiredState,
      configVersion: r.configVersion,
      deployment: r.phase
        ? { phase: r.phase, readyReplicas: r.readyReplicas ?? 0, desiredReplicas: r.desiredReplicas ?? 0 }
        : null,
      partitions: Number(r.partitions ?? 0),
      lagEvents: Number(r.lagEvents ?? 0),
      lagSeconds,
      eventsPerSecond,
      megabytesPerSecond: bytesPerSecond / 1e6,
      lastCheckpointAt: r.lastCheckpointTime?.toISOString() ?? null,
      lastSeenAt: r.lastSeenAt?.toISOString() ?? null,
      filesPerHour: Number(r.filesLastHour ?? 0),
      eventsLastHour: Number(r.eventsLastHour ?? 0),
      bytesLastHour: Number(r.bytesLastHour ?? 0),
      recentErrors,
      openAlerts: Number(r.openAlerts ?? 0),
      deadLettered: Number(r.deadLettered ?? 0),
      deadLetteredLastHour: Number(r.deadLetteredLastHour ?? 0),
      schemaChanges: Number(r.schemaChanges ?? 0),
      cost: estimateCost({ eventsPerSecond, bytesPerSecond }, r.scaling, settings.prices),
    };
  });
}

export async function fleetOverview(prisma: PrismaClient) {
  const settings = await getSettings(prisma);
  const topics = await summaries(prisma, settings, null);
  const sum = (f: (t: TopicSummary) => number) =>
    Math.round(topics.reduce((a, t) => a + f(t), 0) * 100) / 100;
  return {
    topics,
    totals: {
      topics: topics.length,
      eventsPerSecond: sum((t) => t.eventsPerSecond),
      megabytesPerSecond: sum((t) => t.megabytesPerSecond),
      captureMonthly: sum((t) => t.cost.captureMonthly),
      agentsMonthly: sum((t) => t.cost.agentsMonthly),
      savingMonthly: sum((t) => t.cost.savingMonthly),
    },
    generatedAt: new Date().toISOString(),
  };
}

export const CHART_RANGES = ['1h', '6h', '24h', '7d', '30d'] as const;
export type ChartRange = (typeof CHART_RANGES)[number];
const RANGE = {
  '1h': { ms: 3_600_000, bin: '10 seconds', raw: true },
  '6h': { ms: 6 * 3_600_000, bin: '1 minute', raw: false },
  '24h': { ms: 24 * 3_600_000, bin: '5 minutes', raw: false },
  '7d': { ms: 7 * 86_400_000, bin: '1 hour', raw: false },
  '30d': { ms: 30 * 86_400_000, bin: '4 hours', raw: false },
} as const;

interface SeriesRow {
  t: Date;
  eventsPerSecond: number;
  bytesPerSecond: number;
  lagEvents: number;
  lagSeconds: number;
}

/** Lag and throughput over time; the last hour from raw samples, longer ranges from per-minute rollups. */
async function series(prisma: PrismaClient, topicId: string, range: ChartRange) {
  const r = RANGE[range];
  const since = new Date(Date.now() - r.ms);
  const rows = r.raw
    ? await prisma.$queryRaw<SeriesRow[]>`
        SELECT t, sum(eps)::float8 AS "eventsPerSecond", sum(bps)::float8 AS "bytesPerSecond",
          sum(lag)::float8 AS "lagEvents", max(lags)::float8 AS "lagSeconds"
        FROM (
          SELECT date_bin(${r.bin}::interval, at, TIMESTAMP '2000-01-01') AS t,
            coalesce("replicaId", "agentInstanceId", '') AS replica,
            avg("eventsPerSecond") AS eps, avg("bytesPerSecond") AS bps, max("lagEvents") AS lag, max("lagSeconds") AS lags
          FROM "MetricSample" WHERE "topicId" = ${topicId} AND at >= ${since}
          GROUP BY 1, 2
        ) s GROUP BY t ORDER BY t`
    : await prisma.$queryRaw<SeriesRow[]>`
        SELECT date_bin(${r.bin}::interval, minute, TIMESTAMP '2000-01-01') AS t,
          avg("eventsPerSecond")::float8 AS "eventsPerSecond", avg("bytesPerSecond")::float8 AS "bytesPerSecond",
          max("lagEvents")::float8 AS "lagEvents", max("lagSeconds")::float8 AS "lagSeconds"
        FROM "MetricMinute" WHERE "topicId" = ${topicId} AND minute >= ${since}
        GROUP BY 1 ORDER BY 1`;
  return rows.map((row) => ({
    t: row.t.toISOString(),
    eventsPerSecond: row.eventsPerSecond,
    bytesPerSecond: row.bytesPerSecond,
    lagEvents: row.lagEvents,
    lagSeconds: row.lagSeconds,
  }));
}

const iso = (d: Date | null) => d?.toISOString() ?? null;
const seq = (n: bigint | null) => (n === null ? null : Number(n));

/** Replicas whose last report is older than this are gone (stopped, replaced): not listed. */
const REPLICA_SEEN_MS = 5 * 60_000;

/** Everything the topic page shows. */
export async function topicDetail(prisma: PrismaClient, topicId: string, range: ChartRange) {
  const settings = await getSettings(prisma);
  const [summary] = await summaries(prisma, settings, topicId);
  if (!summary) throw new AppError('NOT_FOUND', 'no such topic');
  const [
    partitions,
    points,
    files,
    errors,
    agents,
    alerts,
    deployment,
    deadLetters,
    config,
    schema,
    replicas,
  ] = await Promise.all([
    prisma.partitionState.findMany({ where: { topicId } }),
    series(prisma, topicId, range),
    prisma.topicFile.findMany({ where: { topicId }, orderBy: { committedAt: 'desc' }, take: 20 }),
    prisma.topicError.findMany({ where: { topicId }, orderBy: { at: 'desc' }, take: 20 }),
    prisma.agentInstance.findMany({
      where: { topicId, revokedAt: null },
      select: { id: true, name: true, lastSeenAt: true, agentVersion: true, createdAt: true },
      orderBy: { createdAt: 'asc' },
    }),
    prisma.alert.findMany({ where: { topicId }, orderBy: { openedAt: 'desc' }, take: 20 }),
    prisma.deployment.findUnique({ where: { topicId } }),
    prisma.topicDeadLetter.findMany({
      where: { topicId },
      orderBy: [{ count: 'desc' }, { reason: 'asc' }],
    }),
    prisma.topicConfigVersion.findFirst({
      where: { topicId, version: summary.configVersion },
      select: { config: true },
    }),
    schemaOverview(prisma, topicId),
    prisma.agentReplica.findMany({
      where: { topicId, lastSeenAt: { gte: new Date(Date.now() - REPLICA_SEEN_MS) } },
      select: { replicaId: true, startedAt: true, lastSeenAt: true, configVersion: true, configIssue: true },
      orderBy: { replicaId: 'asc' },
    }),
  ]);
  partitions.sort(
    (a, b) => Number(a.partitionId) - Number(b.partitionId) || a.partitionId.localeCompare(b.partitionId),
  );
  return {
    ...summary,
    range,
    partitions: partitions.map((p) => ({
      partitionId: p.partitionId,
      lastEnqueuedSequenceNumber: seq(p.lastEnqueuedSequenceNumber),
      lastEnqueuedAt: iso(p.lastEnqueuedTime),
      lastReceivedSequenceNumber: seq(p.lastReceivedSequenceNumber),
      lastReceivedAt: iso(p.lastReceivedTime),
      lastCheckpointSequenceNumber: seq(p.lastCheckpointSequenceNumber),
      lastCheckpointAt: iso(p.lastCheckpointTime),
      lagEvents: Number(p.lagEvents),
      lagSeconds: p.lagSeconds,
      eventsPerSecond: p.eventsPerSecond,
      updatedAt: p.updatedAt.toISOString(),
    })),
    series: points,
    recentFiles: files.map((f) => ({
      id: String(f.id),
      path: f.path,
      partitionId: f.partitionId,
      events: f.events,
      bytes: Number(f.bytes),
      firstSequenceNumber: Number(f.firstSequenceNumber),
      lastSequenceNumber: Number(f.lastSequenceNumber),
      committedAt: f.committedAt.toISOString(),
    })),
    recentErrors: errors.map((e) => ({
      id: String(e.id),
      at: e.at.toISOString(),
      kind: e.kind,
      message: e.message,
      partitionId: e.partitionId,
      retryable: e.retryable,
    })),
    /** Replicas that reported lately, each with the config version it runs and what it has not applied. */
    replicas: replicas.map((r) => ({
      replicaId: r.replicaId,
      startedAt: r.startedAt.toISOString(),
      lastSeenAt: r.lastSeenAt.toISOString(),
      configVersion: r.configVersion,
      configIssue: r.configIssue as AgentReport['configIssue'] | null,
    })),
    agents: agents.map((a) => ({
      ...a,
      lastSeenAt: iso(a.lastSeenAt),
      createdAt: a.createdAt.toISOString(),
    })),
    alerts: alerts.map((a) => ({
      id: a.id,
      kind: a.kind,
      message: a.message,
      openedAt: a.openedAt.toISOString(),
      resolvedAt: iso(a.resolvedAt),
    })),
    deadLetters: {
      total: summary.deadLettered,
      lastHour: summary.deadLetteredLastHour,
      byReason: deadLetters.map((d) => ({
        reason: d.reason,
        count: Number(d.count),
        lastAt: d.lastAt.toISOString(),
      })),
      location: deadLetterLocation(config?.config),
    },
    schema,
    deploymentDetail: deployment
      ? {
          target: deployment.target,
          phase: deployment.phase,
          message: deployment.message,
          configVersion: deployment.configVersion,
          desiredReplicas: deployment.desiredReplicas,
          readyReplicas: deployment.readyReplicas,
          lastAppliedAt: iso(deployment.lastAppliedAt),
          updatedAt: deployment.updatedAt.toISOString(),
        }
      : null,
  };
}

/** Cheap change detector for the live subscription: the newest report or edit touching the topic. */
export async function topicVersionStamp(prisma: PrismaClient, topicId: string): Promise<string> {
  const [row] = await prisma.$queryRaw<{ stamp: string | null }[]>`
    SELECT concat_ws('/',
      (SELECT max("lastSeenAt") FROM "AgentInstance" WHERE "topicId" = ${topicId})::text,
      (SELECT "updatedAt" FROM "Topic" WHERE id = ${topicId})::text,
      (SELECT "updatedAt" FROM "Deployment" WHERE "topicId" = ${topicId})::text,
      (SELECT count(*) FROM "Alert" WHERE "topicId" = ${topicId} AND "resolvedAt" IS NULL)::text,
      (SELECT max("updatedAt") FROM "TopicSchemaVersion" WHERE "topicId" = ${topicId})::text
    ) AS stamp`;
  return row?.stamp ?? '';
}
