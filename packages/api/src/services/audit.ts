import type { Prisma, PrismaClient } from '@hubcap/db';
import type { SessionUser } from '../context.ts';

/** Who did something: a signed-in user, an agent or the control plane itself. */
export interface Actor {
  /** "user:<id>", "agent:<id>" or "system". */
  actor: string;
  userId?: string;
}

export const userActor = (user: Pick<SessionUser, 'id'>): Actor => ({
  actor: `user:${user.id}`,
  userId: user.id,
});

type Db = PrismaClient | Prisma.TransactionClient;

/** One audit row per change: who, what, when. `details` must never hold a secret value. */
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
      details: details as Prisma.InputJsonValue,
    },
  });
}

export async function listAuditEvents(
  prisma: PrismaClient,
  filter: { targetType?: string; targetId?: string; limit: number },
) {
  const events = await prisma.auditEvent.findMany({
    where: { targetType: filter.targetType, targetId: filter.targetId },
    orderBy: { createdAt: 'desc' },
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
  return events.map(({ actorUser, createdAt, ...event }) => ({
    ...event,
    actorEmail: actorUser?.email ?? null,
    createdAt: createdAt.toISOString(),
  }));
}
