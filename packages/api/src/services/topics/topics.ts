import type { Prisma, PrismaClient } from '@hubcap/db';
import {
  blankSecrets,
  keepStoredSecrets,
  SECRET_PATHS,
  Source,
  sourceKey,
  splitSecrets,
  TopicConfig,
  UNFINISHED_REPLAY_STATES,
} from '@hubcap/shared';
import type { SecretBox } from '../../auth/secret-box.ts';
import { hashToken, newToken } from '../../auth/tokens.ts';
import type { SecurityPolicy } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { type Actor, audit } from '../audit.ts';
import { diffConfigs } from './config-diff.ts';
import { assertPolicy } from './policy.ts';
import { openSecrets, sealSecrets } from './topic-configs.ts';

export type { Actor } from '../audit.ts';

type Doc = Record<string, unknown>;

/** Creates a topic from a config document; secrets are sealed, version 1 is recorded and audited. */
export async function createTopic(
  prisma: PrismaClient,
  box: SecretBox,
  input: unknown,
  who: Actor,
  policy?: SecurityPolicy,
): Promise<{ id: string; name: string }> {
  const config = TopicConfig.parse(input);
  if (policy) assertPolicy(config, policy);
  const { stored, secrets } = splitSecrets(config);
  const existing = await prisma.topic.findUnique({ where: { slug: config.topic }, select: { id: true } });
  if (existing) throw AppError.invalid({ topic: `a topic named "${config.topic}" already exists` });
  const key = sourceKeyOf(config.source);
  return prisma.$transaction(async (tx) => {
    await claimSource(tx, key, null, config.source);
    const topic = await tx.topic.create({
      data: {
        slug: config.topic,
        displayName: config.topic,
        sourceKey: key,
        configVersions: { create: { version: 1, config: stored as object, createdById: who.userId ?? null } },
      },
    });
    await sealSecrets(tx, box, topic.id, secrets);
    await audit(tx, who, 'topic.create', { type: 'topic', id: topic.id }, { name: config.topic, version: 1 });
    return { id: topic.id, name: topic.slug };
  });
}

/** The (namespace, event hub, consumer group) a source reads, as stored in `Topic.sourceKey`. */
export function sourceKeyOf(source: TopicConfig['source']): string {
  const key = sourceKey(source);
  return `${key.namespace}/${key.eventHubName}/${key.consumerGroup}`;
}

/** The other topic that reads this source already, if any. */
async function sourceOwner(db: Prisma.TransactionClient | PrismaClient, key: string, topicId: string | null) {
  return db.topic.findFirst({
    where: { sourceKey: key, ...(topicId ? { id: { not: topicId } } : {}) },
    select: { slug: true },
    orderBy: { createdAt: 'asc' },
  });
}

function sourceTakenMessage(owner: string, source: TopicConfig['source']): string {
  return `topic "${owner}" already reads event hub "${source.eventHubName}" with consumer group "${source.consumerGroup}"; two topics in one group take each other's partitions, so give this topic its own consumer group`;
}

/**
 * Refuses a source another topic reads: two readers in one consumer group split the partitions
 * between them and each topic's files get holes. A transaction lock on the key serialises concurrent
 * saves of the same source, so two of them cannot both pass the check.
 */
async function claimSource(
  tx: Prisma.TransactionClient,
  key: string,
  topicId: string | null,
  source: TopicConfig['source'],
): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`;
  const owner = await sourceOwner(tx, key, topicId);
  if (owner) throw AppError.invalid({ 'source.consumerGroup': sourceTakenMessage(owner.slug, source) });
}

/**
 * For the form, before anything is saved: the topic that already reads the draft's source (blank
 * secrets are filled from the topic being edited), or null when it is free or the draft is incomplete.
 */
export async function sourceInUse(
  prisma: PrismaClient,
  draft: Doc,
  topicId: string | null,
): Promise<{ topic: string; message: string } | null> {
  const parsed = Source.safeParse(draft.source);
  if (!parsed.success) return null;
  const owner = await sourceOwner(prisma, sourceKeyOf(parsed.data), topicId);
  return owner ? { topic: owner.slug, message: sourceTakenMessage(owner.slug, parsed.data) } : null;
}

/** A topic with its newest config version; NOT_FOUND when either is missing. */
async function currentConfig(prisma: PrismaClient, topicId: string) {
  const topic = await prisma.topic.findUnique({
    where: { id: topicId },
    select: {
      id: true,
      slug: true,
      configVersion: true,
      sourceKey: true,
      configVersions: { orderBy: { version: 'desc' }, take: 1 },
    },
  });
  const current = topic?.configVersions[0];
  if (!topic || !current) throw new AppError('NOT_FOUND', 'no such topic');
  return { topic, current };
}

/**
 * A new config version from an edited document. Blank secret fields keep the stored secrets.
 * Returns the changes (secrets only named, never shown); no version is made when nothing changed.
 */
export async function updateTopic(
  prisma: PrismaClient,
  box: SecretBox,
  topicId: string,
  input: Doc,
  who: Actor,
  policy?: SecurityPolicy,
) {
  const { topic, current } = await currentConfig(prisma, topicId);
  const storedSecrets = await openSecrets(prisma, box, topicId);
  const config = TopicConfig.parse(keepStoredSecrets(input, storedSecrets));
  if (policy) assertPolicy(config, policy);
  if (config.topic !== topic.slug) {
    throw AppError.invalid({ topic: 'a topic cannot be renamed; create a new topic instead' });
  }
  const { stored, secrets } = splitSecrets(config);
  const changes = diffConfigs(current.config, stored);
  const secretsChanged = SECRET_PATHS.filter((f) => secrets.get(f) !== storedSecrets.get(f));
  const key = sourceKeyOf(config.source);
  if (changes.length === 0 && secretsChanged.length === 0) {
    // A key stored from the fields alone (before the endpoint was known) is corrected on any save.
    if (key !== topic.sourceKey) {
      await prisma.$transaction(async (tx) => {
        await claimSource(tx, key, topicId, config.source);
        await tx.topic.update({ where: { id: topicId }, data: { sourceKey: key } });
      });
    }
    return { version: current.version, changes: [], secretsChanged: [] as string[], unchanged: true };
  }
  const version = current.version + 1;
  await prisma.$transaction(async (tx) => {
    // A row that already shares its source (saved before this check) may still be edited otherwise.
    if (key !== topic.sourceKey) await claimSource(tx, key, topicId, config.source);
    await tx.topicConfigVersion.create({
      data: { topicId, version, config: stored as Prisma.InputJsonValue, createdById: who.userId ?? null },
    });
    await tx.topic.update({ where: { id: topicId }, data: { configVersion: version, sourceKey: key } });
    await sealSecrets(tx, box, topicId, secrets);
    await audit(
      tx,
      who,
      'topic.update',
      { type: 'topic', id: topicId },
      {
        name: topic.slug,
        version,
        changed: changes.map((c) => c.path),
        secretsChanged,
      },
    );
  });
  return { version, changes, secretsChanged, unchanged: false };
}

/** The current config for the edit form: secrets blanked, with the names of those that are stored. */
export async function getTopicConfig(prisma: PrismaClient, topicId: string) {
  const { topic, current } = await currentConfig(prisma, topicId);
  const { config, storedSecrets } = blankSecrets(current.config);
  return { id: topic.id, name: topic.slug, version: current.version, config, storedSecrets };
}

/** Every version, newest first, each with its diff against the one before. Secrets appear only as a marker. */
export async function listConfigVersions(prisma: PrismaClient, topicId: string) {
  const [versions, updates] = await Promise.all([
    prisma.topicConfigVersion.findMany({
      where: { topicId },
      orderBy: { version: 'asc' },
      select: { version: true, config: true, createdAt: true, createdBy: { select: { email: true } } },
    }),
    prisma.auditEvent.findMany({
      where: { targetType: 'topic', targetId: topicId, action: { in: ['topic.create', 'topic.update'] } },
      select: { details: true },
    }),
  ]);
  const secretsByVersion = new Map<number, string[]>();
  for (const { details } of updates) {
    const d = details as { version?: number; secretsChanged?: string[] };
    if (typeof d.version === 'number') secretsByVersion.set(d.version, d.secretsChanged ?? []);
  }
  return versions
    .map((v, i) => ({
      version: v.version,
      createdAt: v.createdAt.toISOString(),
      createdBy: v.createdBy?.email ?? null,
      changes: i === 0 ? [] : diffConfigs(versions[i - 1]!.config, v.config),
      secretsChanged: i === 0 ? [] : (secretsByVersion.get(v.version) ?? []),
    }))
    .reverse();
}

export async function topicIdForSlug(prisma: PrismaClient, slug: string): Promise<string> {
  const topic = await prisma.topic.findUnique({ where: { slug }, select: { id: true } });
  if (!topic) throw new AppError('NOT_FOUND', `no topic named "${slug}"`);
  return topic.id;
}

/**
 * A new bearer token for one agent of one topic. The token is returned once; only its hash is kept.
 * Only the deployer's tokens get `configAccess` (the config with its secrets): a token a person mints
 * must never become a way for that person to read secrets.
 */
export async function issueAgentToken(
  prisma: PrismaClient,
  topicId: string,
  name: string,
  options: { configAccess?: boolean } = {},
): Promise<{ agentId: string; token: string }> {
  const token = newToken('hca');
  const agent = await prisma.agentInstance.create({
    data: { topicId, name, tokenHash: hashToken(token), configAccess: options.configAccess ?? false },
  });
  return { agentId: agent.id, token };
}

export async function revokeAgentToken(prisma: PrismaClient, topicId: string, agentId: string, who: Actor) {
  const now = new Date();
  const { count } = await prisma.agentInstance.updateMany({
    where: { id: agentId, topicId, OR: [{ revokedAt: null }, { revokedAt: { gt: now } }] },
    data: { revokedAt: now },
  });
  if (count === 0) throw new AppError('NOT_FOUND', 'no such active agent token for this topic');
  await audit(prisma, who, 'agent.revokeToken', { type: 'topic', id: topicId }, { agentId });
}

/** This topic's agent is reading now: a replica reported within two minutes, or a deployment is up. */
export async function agentReading(prisma: PrismaClient, topicId: string): Promise<boolean> {
  const [recent, deployment] = await Promise.all([
    prisma.agentReplica.count({ where: { topicId, lastSeenAt: { gte: new Date(Date.now() - 120_000) } } }),
    prisma.deployment.findUnique({ where: { topicId }, select: { phase: true } }),
  ]);
  return recent > 0 || ['pending', 'applying', 'running'].includes(deployment?.phase ?? '');
}

/**
 * Deletes a topic with its versions, secrets, tokens and metrics; files already written stay in
 * storage. Refused while its agent is deployed: removing the agent is a separate, deliberate step.
 */
export async function deleteTopic(prisma: PrismaClient, topicId: string, who: Actor): Promise<void> {
  await prisma.$transaction(async (tx) => {
    // Row locks: a deploy of this topic running at the same time waits, then finds it gone.
    const [topic] = await tx.$queryRaw<{ slug: string }[]>`
      SELECT slug FROM "Topic" WHERE id = ${topicId} FOR UPDATE`;
    if (!topic) throw new AppError('NOT_FOUND', 'no such topic');
    const [deployment] = await tx.$queryRaw<{ phase: string }[]>`
      SELECT phase::text FROM "Deployment" WHERE "topicId" = ${topicId} FOR UPDATE`;
    if (deployment && deployment.phase !== 'deleted') {
      throw new AppError(
        'CONFLICT',
        `the agent of "${topic.slug}" is deployed: remove it first (Remove in the Deployment panel)`,
      );
    }
    // A replay's run holds the topic's config and token: it ends (or is cancelled) first.
    const running = await tx.replay.count({ where: { topicId, state: { in: UNFINISHED_REPLAY_STATES } } });
    if (running > 0)
      throw new AppError(
        'CONFLICT',
        `a replay of "${topic.slug}" is running: cancel it first (Replays on the topic page)`,
      );
    await tx.topic.delete({ where: { id: topicId } });
    await audit(tx, who, 'topic.delete', { type: 'topic', id: topicId }, { name: topic.slug });
  });
}
