import type { Prisma, PrismaClient } from '@hubcap/db';
import { parseOrThrow, TopicConfig } from '@hubcap/shared';
import type { SecretBox } from '../../auth/secret-box.ts';
import { AppError } from '../../errors.ts';

/** Config fields that hold secrets. They are sealed into Secret rows; the stored document keeps a marker. */
export const SECRET_FIELDS = [
  'source.auth.connectionString',
  'destination.account.connectionString',
] as const;
export const MARKER = '<sealed>';

type Doc = Record<string, unknown>;

export function getPath(doc: Doc, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Doc | undefined)?.[key], doc);
}

export function setPath(doc: Doc, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  const parent = keys.reduce<Doc | undefined>((node, key) => node?.[key] as Doc | undefined, doc);
  if (parent && typeof parent === 'object') parent[last] = value;
}

/** The config as stored: every secret replaced by a marker, plus the secrets to seal. */
export function splitSecrets(config: TopicConfig): { stored: Doc; secrets: Map<string, string> } {
  const stored = structuredClone(config) as Doc;
  const secrets = new Map<string, string>();
  for (const field of SECRET_FIELDS) {
    const value = getPath(stored, field);
    if (typeof value === 'string') {
      secrets.set(field, value);
      setPath(stored, field, MARKER);
    }
  }
  return { stored, secrets };
}

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

/**
 * A form's config with its blank secret fields filled from the stored secrets: the browser never
 * receives a secret, so an edit leaves a secret blank to keep it.
 */
export function fillKeptSecrets(doc: Doc, stored: Map<string, string>): Doc {
  const filled = structuredClone(doc);
  for (const field of SECRET_FIELDS) {
    const value = getPath(filled, field);
    const kept = stored.get(field);
    const parentKind = getPath(filled, field.replace(/\.connectionString$/, '.kind'));
    if ((value === '' || value === undefined) && kept !== undefined && parentKind === 'connectionString') {
      setPath(filled, field, kept);
    }
  }
  return filled;
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
  const doc = structuredClone(current.config) as Doc;
  for (const secret of topic.secrets) {
    if (getPath(doc, secret.name) === MARKER)
      setPath(doc, secret.name, box.open(secret, secretAad(topicId, secret.name)));
  }
  return { version: current.version, config: parseOrThrow(TopicConfig, doc, 'stored topic configuration') };
}
