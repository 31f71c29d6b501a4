import type { Prisma, PrismaClient } from '@hubcap/db';
import { mergeSecrets, parseOrThrow, TopicConfig } from '@hubcap/shared';
import type { SecretBox } from '../../auth/secret-box.ts';
import { AppError } from '../../errors.ts';

const secretAad = (topicId: string, name: string) => `${topicId}/${name}`;

export async function sealSecrets(
  tx: Prisma.TransactionClient,
  box: SecretBox,
  topicId: string,
  secrets: Map<string, string>,
): Promise<void> {
  // A secret the new config no longer has (e.g. switched to workload identity) is deleted.
  await tx.secret.deleteMany({ where: { topicId, name: { notIn: [...secrets.keys()] } } });
  for (const [name, value] of secrets) {
    const sealed = box.seal(value, secretAad(topicId, name));
    const data = {
      ...sealed,
      iv: Buffer.from(sealed.iv),
      ciphertext: Buffer.from(sealed.ciphertext),
      authTag: Buffer.from(sealed.authTag),
    };
    await tx.secret.upsert({
      where: { topicId_name: { topicId, name } },
      create: { topicId, name, ...data },
      update: data,
    });
  }
}

/** The secrets of a topic, opened, by field path. Server-side only. */
export async function openSecrets(
  prisma: PrismaClient,
  box: SecretBox,
  topicId: string,
): Promise<Map<string, string>> {
  const rows = await prisma.secret.findMany({ where: { topicId } });
  return new Map(rows.map((row) => [row.name, box.open(row, secretAad(topicId, row.name))]));
}

/** The full config an agent runs from, secrets opened. Server-side only: never send it to a browser. */
export async function loadAgentConfig(
  prisma: PrismaClient,
  box: SecretBox,
  topicId: string,
): Promise<{ version: number; config: TopicConfig }> {
  const topic = await prisma.topic.findUnique({
    where: { id: topicId },
    select: { secrets: true, configVersions: { orderBy: { version: 'desc' }, take: 1 } },
  });
  const current = topic?.configVersions[0];
  if (!topic || !current) throw new AppError('NOT_FOUND', 'this topic has no configuration');
  const doc = mergeSecrets(current.config, (field) => {
    const secret = topic.secrets.find((s) => s.name === field);
    return secret && box.open(secret, secretAad(topicId, field));
  });
  return { version: current.version, config: parseOrThrow(TopicConfig, doc, 'stored topic configuration') };
}
