import type { Prisma, PrismaClient } from '@hubcap/db';
import { z } from 'zod';
import type { SessionUser } from '../context.ts';

/** Who did something: a signed-in user, an agent or the control plane itself. */
export interface Actor {
  /** "user:<id>", "agent:<id>" or "system". */
  actor: string;
  userId?: string;
}

/** The control plane itself: start-up, reconciliation, maintenance. */
export const SYSTEM: Actor = { actor: 'system' };

export const userActor = (user: Pick<SessionUser, 'id'>): Actor => ({
  actor: `user:${user.id}`,
  userId: user.id,
});

type Db = PrismaClient | Prisma.TransactionClient;

/**
 * One audit row per change: who, what, when. `details` must never hold a secret value; it is stored
 * as its JSON (undefined fields dropped, dates as strings).
 */
export async function audit(
  db: Db,
  who: Actor,
  action: string,
  target: { type: string; id?: string | null },
  details: Record<string, unknown> = {},
): Promise<void> {
  await db.auditEvent.create({
    data: {
      actor: who.actor,
      actorId: who.userId ?? null,
      action,
      targetType: target.type,
      targetId: target.id ?? null,
      details: JSON.parse(JSON.stringify(details)) as Prisma.InputJsonValue,
    },
  });
}

/**
 * Topic ids that carried a name: the live topic's and those of deleted topics with that name (a
 * deleted topic's row is gone; its `topic.delete` event keeps the name).
 */
async function topicIdsNamed(prisma: PrismaClient, name: string): Promise<string[]> {
  const [live, deleted] = await Promise.all([
    prisma.topic.findUnique({ where: { slug: name }, select: { id: true } }),
    prisma.auditEvent.findMany({
      where: { action: 'topic.delete', details: { path: ['name'], equals: name } },
      select: { targetId: true },
    }),
  ]);
  return [live?.id, ...deleted.map((e) => e.targetId)].filter((id): id is string => !!id);
}

/** Names of the topics these events are about, deleted ones included. */
async function topicNames(prisma: PrismaClient, ids: string[]): Promise<Map<string, string>> {
  const [live, deleted] = await Promise.all([
    prisma.topic.findMany({ where: { id: { in: ids } }, select: { id: true, slug: true } }),
    prisma.auditEvent.findMany({
      where: { action: 'topic.delete', targetId: { in: ids } },
      select: { targetId: true, details: true },
    }),
  ]);
  const names = new Map<string, string>();
  for (const e of deleted) {
    const name = (e.details as { name?: unknown }).name;
    if (e.targetId && typeof name === 'string') names.set(e.targetId, name);
  }
  for (const t of live) names.set(t.id, t.slug);
  return names;
}

/** An audit event as the audit page lists it. */
export const AuditEventView = z.object({
  id: z.string(),
  actor: z.string(),
  actorEmail: z.string().nullable(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string().nullable(),
  topicName: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});

/** Newest first; `topic` narrows to one topic by name (its events under earlier, deleted incarnations too). */
export async function listAuditEvents(
  prisma: PrismaClient,
  filter: { targetType?: string; targetId?: string; topic?: string; limit: number },
) {
  const where: Prisma.AuditEventWhereInput = { targetType: filter.targetType, targetId: filter.targetId };
  if (filter.topic !== undefined) {
    where.targetType = 'topic';
    where.AND = { targetId: { in: await topicIdsNamed(prisma, filter.topic) } };
  }
  const events = await prisma.auditEvent.findMany({
    where,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: filter.limit,
    select: {
      id: true,
      actor: true,
      action: true,
      targetType: true,
      targetId: true,
      details: true,
      createdAt: true,
      actorUser: { select: { email: true } },
    },
  });
  const topicIds = events.filter((e) => e.targetType === 'topic' && e.targetId).map((e) => e.targetId!);
  const names = await topicNames(prisma, [...new Set(topicIds)]);
  return events.map(({ actorUser, createdAt, details, ...event }) => ({
    ...event,
    // Always an object: `audit` writes one.
    details: details as Record<string, unknown>,
    actorEmail: actorUser?.email ?? null,
    topicName: event.targetType === 'topic' && event.targetId ? (names.get(event.targetId) ?? null) : null,
    createdAt: createdAt.toISOString(),
  }));
}

/** An audit entry about a topic: the topic as the target, its name first in the details. */
export function auditTopic(
  db: Db,
  who: Actor,
  action: string,
  topic: { id: string; slug: string },
  details: Record<string, unknown> = {},
): Promise<void> {
  return audit(db, who, action, { type: 'topic', id: topic.id }, { name: topic.slug, ...details });
}
