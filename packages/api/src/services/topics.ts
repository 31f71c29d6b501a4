import type { PrismaClient } from '@hubcap/db';
import { parseOrThrow, TopicConfig, type TopicConfigInput } from '@hubcap/shared';
import type { SecretBox } from '../auth/secret-box.ts';
import { hashToken, newToken } from '../auth/tokens.ts';
import { AppError } from '../errors.ts';
import { sealSecrets, splitSecrets } from './topic-configs.ts';

export interface Actor {
  /** "user:<id>", "agent:<id>" or "system". */
  actor: string;
  userId?: string;
}

export async function createTopic(
  prisma: PrismaClient,
  box: SecretBox,
  input: TopicConfigInput,
  who: Actor,
): Promise<{ id: string; name: string }> {
  const config = parseOrThrow(TopicConfig, input, 'topic configuration');
  const { stored, secrets } = splitSecrets(config);
  const existing = await prisma.topic.findUnique({ where: { slug: config.topic }, select: { id: true } });
  if (existing) throw new AppError('CONFLICT', `a topic named "${config.topic}" already exists`);
  return prisma.$transaction(async (tx) => {
    const topic = await tx.topic.create({
      data: {
        slug: config.topic,
        displayName: config.topic,
        configVersions: { create: { version: 1, config: stored as object, createdById: who.userId ?? null } },
      },
    });
    await sealSecrets(tx, box, topic.id, secrets);
    await tx.auditEvent.create({
      data: {
        actor: who.actor,
        actorId: who.userId ?? null,
        action: 'topic.create',
        targetType: 'topic',
        targetId: topic.id,
        details: { name: config.topic, version: 1 },
      },
    });
    return { id: topic.id, name: topic.slug };
  });
}

/** A new bearer token for one agent of one topic. The token is returned once; only its hash is kept. */
export async function issueAgentToken(
  prisma: PrismaClient,
  topicId: string,
  name: string,
): Promise<{ agentId: string; token: string }> {
  const token = newToken('hca');
  const agent = await prisma.agentInstance.create({ data: { topicId, name, tokenHash: hashToken(token) } });
  return { agentId: agent.id, token };
}

export async function listTopics(prisma: PrismaClient) {
  const topics = await prisma.topic.findMany({
    orderBy: { slug: 'asc' },
    select: {
      id: true,
      slug: true,
      desiredState: true,
      configVersion: true,
      updatedAt: true,
      deployment: { select: { phase: true, readyReplicas: true, desiredReplicas: true } },
      agents: { where: { revokedAt: null }, select: { lastSeenAt: true } },
    },
  });
  return topics.map(({ agents, ...topic }) => ({
    ...topic,
    lastSeenAt: agents.reduce<Date | null>(
      (a, b) => (b.lastSeenAt && (!a || b.lastSeenAt > a) ? b.lastSeenAt : a),
      null,
    ),
  }));
}
