import type { PrismaClient } from '@hubcap/db';
import {
  describeIssues,
  Format,
  MeasuredRates,
  type Measurement,
  meetsAdvice,
  recommendScaling,
  Scaling,
  type ScalingAdvice,
  SIZING_WINDOW_HOURS,
} from '@hubcap/shared';

/**
 * The topic's peak per-minute rates over the window, from its agents' reports (replicas summed). Only
 * minutes with a report count: a paused or crashed agent leaves no rows, never rows of zero. The minute
 * still filling does not count: its average moves with every report (a catch-up's first seconds, then
 * the steady rate), and a peak must not fall while the page watches.
 */
export async function measuredRates(
  prisma: PrismaClient,
  topicId: string,
  now = new Date(),
): Promise<Measurement> {
  const since = new Date(now.getTime() - SIZING_WINDOW_HOURS * 3_600_000);
  const [row] = await prisma.$queryRaw<{ bytes: number | null; events: number | null; minutes: bigint }[]>`
    SELECT max("bytesPerSecond")::float8 AS bytes, max("eventsPerSecond")::float8 AS events, count(*) AS minutes
    FROM "MetricMinute" WHERE "topicId" = ${topicId} AND minute >= ${since}
      AND minute < date_trunc('minute', ${now}::timestamp)`;
  if (!row || row.minutes === 0n) return { rates: null, problem: null };
  const parsed = MeasuredRates.safeParse({
    peakBytesPerSecond: row.bytes ?? 0,
    peakEventsPerSecond: row.events ?? 0,
    windowHours: SIZING_WINDOW_HOURS,
    minutes: Number(row.minutes),
  });
  if (parsed.success) return { rates: parsed.data, problem: null };
  return {
    rates: null,
    problem: `The agents reported rates no event hub carries (${describeIssues(parsed.error).join('; ')}).`,
  };
}

export interface TopicSizing {
  measurement: Measurement;
  advice: ScalingAdvice;
  /** What the topic runs with now. */
  scaling: { replicas: number; cpu: string; memory: string };
  /** Whether that is at least the advice. */
  enough: boolean;
}

/** The recommended CPU and memory for a topic's stored config; null when the config has none. */
export async function topicSizing(
  prisma: PrismaClient,
  topicId: string,
  config: unknown,
): Promise<TopicSizing | null> {
  const doc = (config ?? {}) as { format?: unknown; scaling?: unknown };
  const format = Format.safeParse(doc.format);
  const scaling = Scaling.safeParse(doc.scaling);
  if (!format.success || !scaling.success) return null;
  const measurement = await measuredRates(prisma, topicId);
  const advice = recommendScaling(format.data, measurement.rates, scaling.data.replicas);
  return { measurement, advice, scaling: scaling.data, enough: meetsAdvice(advice, scaling.data) };
}
