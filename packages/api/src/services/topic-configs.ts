import type { Prisma, PrismaClient } from '@hubcap/db';
import { parseOrThrow, TopicConfig } from '@hubcap/shared';
import type { SecretBox } from '../auth/secret-box.ts';
import { AppError } from '../errors.ts';

/** Config fields that hold secrets. They are sealed into Secret rows; the stored document keeps a marker. */
export const SECRET_FIELDS = [
  'source.auth.connectionString',
  'destination.account.connectionString',
] as const;
const MARKER = '<sealed>';

type Doc = Record<string, unknown>;

function getPath(doc: Doc, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Doc | undefined)?.[key], doc);
}

function setPath(doc: Doc, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  const parent = keys.reduce<Doc>((node, key) => node[key] as Doc, doc);
  parent[last] = value;
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
