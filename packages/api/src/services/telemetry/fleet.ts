import type { PrismaClient } from '@hubcap/db';
import type { AgentReport } from '@hubcap/shared';
import { AppError } from '../../errors.ts';
import { getSettings, getThroughputUnits, type Settings } from '../accounts/settings.ts';
import { schemaOverview } from '../schema/schema-history.ts';
import { agentMonthly, type CostOverview, type CostTopic, costOverview } from './cost.ts';
import { deadLetterLocation } from './dead-letters.ts';
import { type LagTrend, lagTrend } from './lag-trend.ts';
import { topicSizing } from './sizing.ts';
import { staleAfterMs, type TopicStatus, topicStatus } from './status.ts';

interface FleetRow {
  id: string;
  slug: string;
  desiredState: 'running' | 'paused';
  configVersion: number;
  phase: string | null;
  readyReplicas: number | null;
  desiredReplicas: number | null;
  deploymentMessage: string | null;
  deployedSince: Date | null;
  scaling: { replicas: number; cpu: string; memory: string } | null;
  namespace: string | null;
  eventHub: string | null;
  maxAgeSeconds: number | null;
  reportIntervalSeconds: number | null;
  sourceSharedWith: string | null;
  waitingWithoutCheckpoint: bigint | null;
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
  refusedFiles: bigint | null;
  openAlerts: bigint | null;
  deadLettered: bigint | null;
  deadLetteredLastHour: bigint | null;
  schemaChanges: bigint | null;
}

export interface TopicSummary {
  id: string;
  name: string;
  status: TopicStatus;
  /** Why the status is what it is (empty when healthy). */
  statusReason: string;
  /** Another topic reading the same namespace, event hub and consumer group (an error on both). */
  sourceSharedWith: string | null;
  namespace: string | null;
  desiredState: 'running' | 'paused';
  configVersion: number;
  deployment: { phase: string; readyReplicas: number; desiredReplicas: number } | null;
  partitions: number;
  lagEvents: number;
  lagSeconds: number;
  /** What the agents write now; 0 while no agent reports (paused, stale, not deployed). */
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
  /** Its agents' reserved capacity per month (0 when not deployed or paused). */
  agentsMonthly: number;
}

/**
 * Every topic with its status and current figures, in one query: per-partition rows are summed,
 * files per hour come from the per-minute rollups, so the cost does not grow with raw samples.
 */
async function summaries(
  prisma: PrismaClient,
  settings: Settings,
  topicId: string | null,
): Promise<(TopicSummary & { costInput: CostTopic | null })[]> {
  const now = new Date();
  const errorSince = new Date(now.getTime() - settings.alerts.errorMinutes * 60_000);
  const hourAgo = new Date(now.getTime() - 3_600_000);
  const rows = await prisma.$queryRaw<FleetRow[]>`
    SELECT t.id, t.slug, t."desiredState"::text AS "desiredState", t."configVersion",
      d.phase::text AS phase, d."readyReplicas", d."desiredReplicas", d.message AS "deploymentMessage",
      coalesce(d."lastAppliedAt", d."createdAt") AS "deployedSince",
      v.config->'scaling' AS scaling,
      -- What the topic really reads (the connection string's endpoint and hub win over the fields).
      nullif(split_part(t."sourceKey", '/', 1), '') AS namespace,
      nullif(split_part(t."sourceKey", '/', 2), '') AS "eventHub",
      (v.config->'batching'->>'maxAgeSeconds')::int AS "maxAgeSeconds",
      (v.config->'reporting'->>'intervalSeconds')::int AS "reportIntervalSeconds",
      (SELECT min(o.slug) FROM "Topic" o
        WHERE o."sourceKey" = t."sourceKey" AND o.id <> t.id AND t."sourceKey" <> '') AS "sourceSharedWith",
      p.partitions, p."lagEvents", p."lagSeconds", p."eventsPerSecond", p."bytesPerSecond", p."lastCheckpointTime",
      p."waitingWithoutCheckpoint",
      a."lastSeenAt", f.files AS "filesLastHour",
      f.events AS "eventsLastHour", f.bytes AS "bytesLastHour", e.errors AS "recentErrors", e.refused AS "refusedFiles", al.alerts AS "openAlerts",
      dl.dead AS "deadLettered", f.dead AS "deadLetteredLastHour", sv.changes AS "schemaChanges"
    FROM "Topic" t
    LEFT JOIN "Deployment" d ON d."topicId" = t.id
    LEFT JOIN "TopicConfigVersion" v ON v."topicId" = t.id AND v.version = t."configVersion"
    LEFT JOIN (
      SELECT "topicId", count(*) AS partitions, sum("lagEvents") AS "lagEvents", max("lagSeconds") AS "lagSeconds",
        sum("eventsPerSecond") AS "eventsPerSecond", sum("bytesPerSecond") AS "bytesPerSecond",
        max(greatest("checkpointedAt", "lastCheckpointTime")) AS "lastCheckpointTime",
        count(*) FILTER (WHERE "lagEvents" > 0 AND "lastCheckpointSequenceNumber" IS NULL) AS "waitingWithoutCheckpoint"
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
      SELECT "topicId", count(*) AS errors, count(*) FILTER (WHERE kind = 'encoding') AS refused
      FROM "TopicError" WHERE at >= ${errorSince} GROUP BY "topicId"
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
    const recentErrors = Number(r.recentErrors ?? 0);
    const lagSeconds = r.lagSeconds ?? 0;
    const lagEvents = Number(r.lagEvents ?? 0);
    const reportIntervalSeconds = r.reportIntervalSeconds ?? 10;
    const health = topicStatus(
      {
        desiredState: r.desiredState,
        deployment:
          r.phase && r.deployedSince
            ? {
                phase: r.phase,
                readyReplicas: r.readyReplicas ?? 0,
                desiredReplicas: r.desiredReplicas ?? 0,
                since: r.deployedSince,
                message: r.deploymentMessage ?? '',
              }
            : null,
        lastSeenAt: r.lastSeenAt,
        reportIntervalSeconds,
        maxAgeSeconds: r.maxAgeSeconds ?? 300,
        lagEvents,
        lagSeconds,
        waitingWithoutCheckpoint: Number(r.waitingWithoutCheckpoint ?? 0),
        recentErrors,
        refusedFiles: Number(r.refusedFiles ?? 0),
        sourceSharedWith: r.sourceSharedWith,
        now,
      },
      settings.alerts,
    );
    // Rates are what agents last reported: only true while they report and run.
    const reporting =
      r.lastSeenAt !== null &&
      now.getTime() - r.lastSeenAt.getTime() <= staleAfterMs(reportIntervalSeconds) &&
      !['paused', 'not deployed', 'stale'].includes(health.status);
    const eventsPerSecond = reporting ? (r.eventsPerSecond ?? 0) : 0;
    const bytesPerSecond = reporting ? (r.bytesPerSecond ?? 0) : 0;
    return {
      id: r.id,
      name: r.slug,
      status: health.status,
      statusReason: health.reason,
      sourceSharedWith: r.sourceSharedWith,
      namespace: r.namespace,
      desiredState: r.desiredState,
      configVersion: r.configVersion,
      deployment: r.phase
        ? { phase: r.phase, readyReplicas: r.readyReplicas ?? 0, desiredReplicas: r.desiredReplicas ?? 0 }
        : null,
      partitions: Number(r.partitions ?? 0),
      lagEvents,
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
      agentsMonthly: Math.round(agentMonthly(runningScaling(r), settings.prices) * 100) / 100,
      costInput: costInput(r),
    };
  });
}

/** What the topic's agents reserve now: nothing unless deployed and running. */
function runningScaling(r: FleetRow): CostTopic['scaling'] {
  const scaling = r.scaling ?? { replicas: 0, cpu: '0', memory: '0' };
  const running =
    r.phase !== null && r.phase !== 'deleted' && r.phase !== 'paused' && r.desiredState === 'running';
  return running ? scaling : { ...scaling, replicas: 0 };
}

/** A deployed topic's share of its namespace's Capture estimate; null when not deployed. */
function costInput(r: FleetRow): CostTopic | null {
  if (!r.phase || r.phase === 'deleted' || !r.namespace || !r.eventHub) return null;
  return {
    name: r.slug,
    namespace: r.namespace,
    eventHub: r.eventHub,
    eventsPerSecond: Number(r.eventsLastHour ?? 0) / 3600,
    bytesPerSecond: Number(r.bytesLastHour ?? 0) / 3600,
    scaling: runningScaling(r),
  };
}

export async function fleetOverview(prisma: PrismaClient) {
  const settings = await getSettings(prisma);
  const [rows, throughputUnits] = await Promise.all([
    summaries(prisma, settings, null),
    getThroughputUnits(prisma),
  ]);
  const topics: TopicSummary[] = rows.map(({ costInput: _, ...t }) => t);
  const cost: CostOverview = costOverview(
    rows.flatMap((r) => (r.costInput ? [r.costInput] : [])),
    settings.prices,
    throughputUnits,
  );
  const sum = (f: (t: TopicSummary) => number) =>
    Math.round(topics.reduce((a, t) => a + f(t), 0) * 100) / 100;
  return {
    topics,
    totals: {
      topics: topics.length,
      eventsPerSecond: sum((t) => t.eventsPerSecond),
      megabytesPerSecond: sum((t) => t.megabytesPerSecond),
      captureMonthly: cost.captureMonthly,
      agentsMonthly: cost.agentsMonthly,
      savingMonthly: cost.savingMonthly,
    },
    cost,
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
  // The control plane's own lag readings cover the times no agent reported (paused, crashed).
  const probed = await prisma.$queryRaw<{ t: Date; lagEvents: number; lagSeconds: number }[]>`
    SELECT date_bin(${r.bin}::interval, at, TIMESTAMP '2000-01-01') AS t,
      max("lagEvents")::float8 AS "lagEvents", max("lagSeconds")::float8 AS "lagSeconds"
    FROM "LagSample" WHERE "topicId" = ${topicId} AND at >= ${since}
    GROUP BY 1 ORDER BY 1`;
  const points = new Map(
    rows.map((row) => [
      row.t.getTime(),
      {
        t: row.t.toISOString(),
        eventsPerSecond: row.eventsPerSecond,
        bytesPerSecond: row.bytesPerSecond,
        lagEvents: row.lagEvents,
        lagSeconds: row.lagSeconds,
      },
    ]),
  );
  for (const p of probed) {
    if (points.has(p.t.getTime())) continue;
    points.set(p.t.getTime(), { t: p.t.toISOString(), eventsPerSecond: 0, bytesPerSecond: 0, ...pick(p) });
  }
  return [...points.values()].sort((a, b) => a.t.localeCompare(b.t));
}

const pick = (p: { lagEvents: number; lagSeconds: number }) => ({
  lagEvents: p.lagEvents,
  lagSeconds: p.lagSeconds,
});

/** The trend of the last ten minutes of the control plane's lag readings. */
async function recentTrend(prisma: PrismaClient, topicId: string): Promise<LagTrend | null> {
  const samples = await prisma.lagSample.findMany({
    where: { topicId, at: { gte: new Date(Date.now() - 10 * 60_000) } },
    orderBy: { at: 'asc' },
  });
  return lagTrend(
    samples.map((s) => ({
      at: s.at,
      lagEvents: Number(s.lagEvents),
      enqueued: Number(s.enqueued),
      checkpointed: Number(s.checkpointed),
    })),
  );
}

const iso = (d: Date | null) => d?.toISOString() ?? null;
const seq = (n: bigint | null) => (n === null ? null : Number(n));

/** Replicas whose last report is older than this are gone (stopped, replaced): not listed. */
const REPLICA_SEEN_MS = 5 * 60_000;

/** Everything the topic page shows. */
export async function topicDetail(prisma: PrismaClient, topicId: string, range: ChartRange) {
  const settings = await getSettings(prisma);
  const [rows, throughputUnits] = await Promise.all([
    summaries(prisma, settings, null),
    getThroughputUnits(prisma),
  ]);
  const row = rows.find((r) => r.id === topicId);
  if (!row) throw new AppError('NOT_FOUND', 'no such topic');
  const { costInput, ...summary } = row;
  const cost = costOverview(
    rows.flatMap((r) => (r.costInput ? [r.costInput] : [])),
    settings.prices,
    throughputUnits,
  );
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
    trend,
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
    recentTrend(prisma, topicId),
    prisma.agentReplica.findMany({
      where: { topicId, lastSeenAt: { gte: new Date(Date.now() - REPLICA_SEEN_MS) } },
      select: { replicaId: true, startedAt: true, lastSeenAt: true, configVersion: true, configIssue: true },
      orderBy: { replicaId: 'asc' },
    }),
  ]);
  partitions.sort(
    (a, b) => Number(a.partitionId) - Number(b.partitionId) || a.partitionId.localeCompare(b.partitionId),
  );
  const sizing = await topicSizing(prisma, topicId, config?.config);
  return {
    ...summary,
    range,
    /** The CPU and memory its measured peak (or, without one, its format) calls for, beside what it has. */
    sizing,
    /** How long a file may stay open: lag younger than this is events waiting for their file. */
    maxFileAgeSeconds:
      (config?.config as { batching?: { maxAgeSeconds?: number } } | undefined)?.batching?.maxAgeSeconds ??
      300,
    lagTrend: trend,
    /** Capture for the topic's namespace (shared by its deployed topics), beside what its agents cost. */
    namespaceCost: cost.namespaces.find((n) => n.namespace === costInput?.namespace) ?? null,
    costAssumptions: cost.assumptions,
    partitions: partitions.map((p) => ({
      partitionId: p.partitionId,
      lastEnqueuedSequenceNumber: seq(p.lastEnqueuedSequenceNumber),
      lastEnqueuedAt: iso(p.lastEnqueuedTime),
      lastReceivedSequenceNumber: seq(p.lastReceivedSequenceNumber),
      lastReceivedAt: iso(p.lastReceivedTime),
      lastCheckpointSequenceNumber: seq(p.lastCheckpointSequenceNumber),
      lastCheckpointAt: iso(p.lastCheckpointTime),
      /** When the checkpoint was written, as the control plane read it from the checkpoint store. */
      checkpointedAt: iso(p.checkpointedAt),
      probedAt: iso(p.probedAt),
      lagEvents: Number(p.lagEvents),
      lagSeconds: p.lagSeconds,
      eventsPerSecond: summary.eventsPerSecond === 0 ? 0 : p.eventsPerSecond,
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
      (SELECT max("updatedAt") FROM "TopicSchemaVersion" WHERE "topicId" = ${topicId})::text,
      (SELECT max(at) FROM "LagSample" WHERE "topicId" = ${topicId})::text
    ) AS stamp`;
  return row?.stamp ?? '';
}
