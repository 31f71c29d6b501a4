import type { PrismaClient } from '@hubcap/db';
import type { Settings } from '../accounts/settings.ts';

/**
 * Folds raw samples into per-minute rows (summed over a topic's replicas, each replica averaged
 * within the minute; replicas share their agent's token, so they are told apart by their own id). Recomputes from `since` on, so re-running over the current minute is harmless.
 */
export async function rollupMinutes(
  prisma: PrismaClient,
  since: Date,
  until: Date = new Date(),
): Promise<number> {
  return prisma.$executeRaw`
    INSERT INTO "MetricMinute" ("topicId", minute, "eventsPerSecond", "bytesPerSecond", "lagEvents", "lagSeconds",
      files, events, bytes, errors, "deadLettered", samples, "updatedAt")
    SELECT "topicId", minute, sum(eps), sum(bps), sum(lag)::bigint, max(lags), sum(files), sum(events), sum(bytes),
      sum(errors), sum(dead), sum(n), ${until}::timestamp
    FROM (
      SELECT "topicId", coalesce("replicaId", "agentInstanceId", '') AS replica, date_trunc('minute', at) AS minute,
        avg("eventsPerSecond") AS eps, avg("bytesPerSecond") AS bps, max("lagEvents") AS lag, max("lagSeconds") AS lags,
        sum("filesDelta") AS files, sum("eventsDelta") AS events, sum("bytesDelta") AS bytes,
        sum("errorCount") AS errors, sum("deadLettered") AS dead, count(*) AS n
      FROM "MetricSample"
      WHERE at >= date_trunc('minute', ${since}::timestamp) AND at < ${until}::timestamp
      GROUP BY 1, 2, 3
    ) per_replica
    GROUP BY "topicId", minute
    ON CONFLICT ("topicId", minute) DO UPDATE SET
      "eventsPerSecond" = EXCLUDED."eventsPerSecond", "bytesPerSecond" = EXCLUDED."bytesPerSecond",
      "lagEvents" = EXCLUDED."lagEvents", "lagSeconds" = EXCLUDED."lagSeconds", files = EXCLUDED.files,
      events = EXCLUDED.events, bytes = EXCLUDED.bytes,
      errors = EXCLUDED.errors, "deadLettered" = EXCLUDED."deadLettered", samples = EXCLUDED.samples, "updatedAt" = EXCLUDED."updatedAt"`;
}

/** Deletes what is older than the retention: raw samples and lag readings, rollups, agent errors and files, resolved alerts. */
export async function pruneMetrics(
  prisma: PrismaClient,
  retention: Settings['retention'],
  now: Date = new Date(),
) {
  const rawBefore = new Date(now.getTime() - retention.rawHours * 3_600_000);
  const minuteBefore = new Date(now.getTime() - retention.minuteDays * 86_400_000);
  const [samples, minutes, errors, files, alerts, lagSamples] = await prisma.$transaction([
    prisma.metricSample.deleteMany({ where: { at: { lt: rawBefore } } }),
    prisma.metricMinute.deleteMany({ where: { minute: { lt: minuteBefore } } }),
    prisma.topicError.deleteMany({ where: { at: { lt: minuteBefore } } }),
    prisma.topicFile.deleteMany({ where: { committedAt: { lt: rawBefore } } }),
    prisma.alert.deleteMany({ where: { resolvedAt: { lt: minuteBefore } } }),
    prisma.lagSample.deleteMany({ where: { at: { lt: rawBefore } } }),
  ]);
  return {
    samples: samples.count,
    minutes: minutes.count,
    errors: errors.count,
    files: files.count,
    alerts: alerts.count,
    lagSamples: lagSamples.count,
  };
}
