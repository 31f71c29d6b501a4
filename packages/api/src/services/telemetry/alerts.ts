import type { AlertKind, PrismaClient } from '@hubcap/db';
import { z } from 'zod';
import type { SecretBox } from '../../auth/secret-box.ts';
import { getSettings, getWebhookUrl, type Settings } from '../accounts/settings.ts';
import { openWindowConditions } from '../completeness/alert.ts';
import { type Notify, postJson } from './webhook.ts';

interface Condition {
  topicId: string;
  slug: string;
  kind: AlertKind;
  message: string;
}

/** Which alert conditions hold right now, per topic. */
async function currentConditions(
  prisma: PrismaClient,
  box: SecretBox,
  s: Settings['alerts'],
  now: Date,
): Promise<Condition[]> {
  const lagSince = new Date(now.getTime() - s.lagMinutes * 60_000);
  const silentBefore = new Date(now.getTime() - s.silentMinutes * 60_000);
  const errorSince = new Date(now.getTime() - s.errorMinutes * 60_000);
  const [lagging, silent, failing] = await Promise.all([
    // Lag above the threshold in every sample of the window, and the window is covered by samples.
    prisma.$queryRaw<{ topicId: string; slug: string; lag: number }[]>`
      SELECT m."topicId", t.slug, min(m."lagSeconds") AS lag
      FROM "MetricSample" m JOIN "Topic" t ON t.id = m."topicId"
      WHERE m.at >= ${lagSince}::timestamp AND t."desiredState" = 'running'
      GROUP BY m."topicId", t.slug
      HAVING min(m."lagSeconds") > ${s.lagSeconds}::float8
        AND min(m.at) <= ${new Date(lagSince.getTime() + 60_000)}::timestamp`,
    prisma.$queryRaw<{ topicId: string; slug: string; lastSeenAt: Date }[]>`
      SELECT a."topicId", t.slug, max(a."lastSeenAt") AS "lastSeenAt"
      FROM "AgentInstance" a JOIN "Topic" t ON t.id = a."topicId"
      WHERE a."revokedAt" IS NULL AND t."desiredState" = 'running'
      GROUP BY a."topicId", t.slug
      HAVING max(a."lastSeenAt") < ${silentBefore}::timestamp`,
    prisma.$queryRaw<{ topicId: string; slug: string; errors: bigint }[]>`
      SELECT e."topicId", t.slug, count(*) AS errors
      FROM "TopicError" e JOIN "Topic" t ON t.id = e."topicId"
      WHERE e.at >= ${errorSince}::timestamp
      GROUP BY e."topicId", t.slug
      HAVING count(*) >= ${s.errorCount}::int`,
  ]);
  return [
    ...lagging.map((r) => ({
      topicId: r.topicId,
      slug: r.slug,
      kind: 'lag' as const,
      message: `lag above ${s.lagSeconds} s for ${s.lagMinutes} min (at least ${Math.round(r.lag)} s)`,
    })),
    ...silent.map((r) => ({
      topicId: r.topicId,
      slug: r.slug,
      kind: 'silent' as const,
      message: `no report for more than ${s.silentMinutes} min (last ${r.lastSeenAt.toISOString()})`,
    })),
    ...failing.map((r) => ({
      topicId: r.topicId,
      slug: r.slug,
      kind: 'errors' as const,
      message: `${r.errors} errors in the last ${s.errorMinutes} min`,
    })),
    ...(await openWindowConditions(prisma, box, s.windowOpenMinutes, now)),
  ];
}

/** What a webhook and the alerts page both say of an alert. */
const ALERT_FIELDS = { id: true, kind: true, message: true, openedAt: true, resolvedAt: true } as const;

const alertTimes = (a: { openedAt: Date; resolvedAt: Date | null }) => ({
  openedAt: a.openedAt.toISOString(),
  resolvedAt: a.resolvedAt?.toISOString() ?? null,
});

/**
 * Opens an alert for each new condition and resolves those that cleared; each change goes to the
 * webhook when one is configured. Returns what changed. A failed delivery is retried next run.
 */
export async function evaluateAlerts(
  prisma: PrismaClient,
  box: SecretBox,
  options: { now?: Date; notify?: Notify; log?: (line: string) => void } = {},
) {
  const now = options.now ?? new Date();
  const notify = options.notify ?? postJson;
  const settings = await getSettings(prisma);
  const conditions = await currentConditions(prisma, box, settings.alerts, now);
  const open = await prisma.alert.findMany({
    where: { resolvedAt: null },
    select: {
      id: true,
      topicId: true,
      kind: true,
      notifiedAt: true,
      message: true,
      topic: { select: { slug: true } },
    },
  });
  const key = (c: { topicId: string; kind: string }) => `${c.topicId}/${c.kind}`;
  const openByKey = new Map(open.map((a) => [key(a), a]));
  const holding = new Set(conditions.map(key));
  const opened = conditions.filter((c) => !openByKey.has(key(c)));
  const resolved = open.filter((a) => !holding.has(key(a)));
  for (const c of opened) {
    await prisma.alert.create({
      data: { topicId: c.topicId, kind: c.kind, message: c.message, openedAt: now },
    });
  }
  if (resolved.length > 0) {
    // Clearing `notifiedAt` makes the resolution a notification of its own.
    await prisma.alert.updateMany({
      where: { id: { in: resolved.map((a) => a.id) } },
      data: { resolvedAt: now, notifiedAt: null },
    });
  }

  const url = await getWebhookUrl(prisma, box).catch(() => null);
  if (url) {
    const pending = await prisma.alert.findMany({
      // Only recent changes: configuring a webhook does not replay old history.
      where: { notifiedAt: null, updatedAt: { gte: new Date(Date.now() - 3_600_000) } },
      orderBy: { updatedAt: 'asc' },
      select: { ...ALERT_FIELDS, topic: { select: { slug: true } } },
      take: 100,
    });
    for (const alert of pending) {
      try {
        await notify(url, {
          topic: alert.topic.slug,
          kind: alert.kind,
          state: alert.resolvedAt ? 'resolved' : 'open',
          message: alert.message,
          ...alertTimes(alert),
        });
        await prisma.alert.update({ where: { id: alert.id }, data: { notifiedAt: new Date() } });
      } catch (error) {
        // The URL may embed a token: never log it.
        options.log?.(`alert webhook delivery failed: ${(error as Error).message}`);
        break;
      }
    }
  }
  return { opened: opened.length, resolved: resolved.length };
}

/** An alert as the alerts page lists it. */
export const AlertView = z.object({
  id: z.string(),
  kind: z.enum(['lag', 'silent', 'errors', 'window'] satisfies AlertKind[]),
  message: z.string(),
  topicId: z.string(),
  topic: z.string(),
  openedAt: z.iso.datetime(),
  resolvedAt: z.iso.datetime().nullable(),
  notified: z.boolean(),
});

export async function listAlerts(prisma: PrismaClient, filter: { state: 'open' | 'all'; limit: number }) {
  const alerts = await prisma.alert.findMany({
    where: filter.state === 'open' ? { resolvedAt: null } : {},
    orderBy: { openedAt: 'desc' },
    take: filter.limit,
    select: { ...ALERT_FIELDS, notifiedAt: true, topic: { select: { id: true, slug: true } } },
  });
  return alerts.map((a) => ({
    id: a.id,
    kind: a.kind,
    message: a.message,
    topicId: a.topic.id,
    topic: a.topic.slug,
    ...alertTimes(a),
    notified: a.notifiedAt !== null,
  }));
}
