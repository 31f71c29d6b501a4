import type { Prisma, PrismaClient } from '@hubcap/db';
import { SchemaField, type SchemaVersionReport } from '@hubcap/shared';
import { z } from 'zod';
import type { SecretBox } from '../../auth/secret-box.ts';
import type { ReportingAgent } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { getWebhookUrl } from '../accounts/settings.ts';
import { type Actor, audit } from '../audit.ts';
import { type Notify, postJson } from '../telemetry/webhook.ts';
import {
  describeSchemaChange,
  diffSchemas,
  type SchemaChangeSummary,
  type SchemaDiff,
  summarizeDiff,
} from './schema-diff.ts';

/** Versions kept per topic. Agents only widen, so a topic reaching this has a runaway producer. */
export const MAX_SCHEMA_VERSIONS = 1000;
/** Versions the topic page lists (newest first); older ones stay readable by number. */
export const LISTED_SCHEMA_VERSIONS = 100;
/** Fields named per list in a webhook payload (the counts are always complete). */
const WEBHOOK_FIELDS = 50;

const StoredFields = z.array(SchemaField);
const StoredSummary = z.object({
  added: z.number(),
  removed: z.number(),
  widened: z.number(),
  changed: z.number(),
});

/** Rows hold what the validated report held; parsing again keeps a hand-edited row from reaching a page. */
const fieldsOf = (json: unknown) => StoredFields.parse(json);
const summaryOf = (json: unknown): SchemaChangeSummary | null => {
  const parsed = StoredSummary.safeParse(json);
  return parsed.success ? parsed.data : null;
};

/**
 * Stores the schema versions a report names, idempotently: a fingerprint already known for the topic
 * (another replica, a restart, a retried report) adds nothing, except that an earlier first sighting
 * replaces the first-seen time, file and partition. New fingerprints get the next version number
 * under a per-topic row lock, so concurrent reports cannot take the same number. Each new version
 * after the first is a change: it stays a notice on the topic page until acknowledged, and waits for
 * the webhook. Returns the new version numbers.
 */
export async function recordSchemaVersions(
  tx: Prisma.TransactionClient,
  agent: ReportingAgent,
  replicaId: string,
  reported: readonly SchemaVersionReport[],
  now: Date,
): Promise<number[]> {
  if (reported.length === 0) return [];
  const { topicId } = agent;
  // FOR NO KEY UPDATE serialises version numbering without blocking rows that reference the topic.
  await tx.$queryRaw`SELECT id FROM "Topic" WHERE id = ${topicId} FOR NO KEY UPDATE`;
  const sorted = [...reported].sort((a, b) => a.firstSeenAt.localeCompare(b.firstSeenAt));
  const known = await tx.topicSchemaVersion.findMany({
    where: { topicId, fingerprint: { in: sorted.map((v) => v.fingerprint) } },
    select: { id: true, fingerprint: true, firstSeenAt: true },
  });
  const byPrint = new Map(known.map((k) => [k.fingerprint, k]));
  let latest = await tx.topicSchemaVersion.findFirst({
    where: { topicId },
    orderBy: { version: 'desc' },
    select: { version: true, fields: true },
  });
  let count = latest ? await tx.topicSchemaVersion.count({ where: { topicId } }) : 0;
  const created: number[] = [];
  for (const v of sorted) {
    const firstSeenAt = new Date(v.firstSeenAt);
    const existing = byPrint.get(v.fingerprint);
    if (existing) {
      if (firstSeenAt < existing.firstSeenAt) {
        await tx.topicSchemaVersion.update({
          where: { id: existing.id },
          data: { firstSeenAt, path: v.path, partitionId: v.partitionId },
        });
        existing.firstSeenAt = firstSeenAt;
      }
      continue;
    }
    if (count >= MAX_SCHEMA_VERSIONS) {
      await tx.topicError.create({
        data: {
          topicId,
          agentInstanceId: agent.agentId,
          at: now,
          kind: 'report',
          message: `schema history is full (${MAX_SCHEMA_VERSIONS} versions): version ${v.fingerprint} not recorded`,
          retryable: false,
        },
      });
      break;
    }
    const version = (latest?.version ?? 0) + 1;
    const summary = latest ? summarizeDiff(diffSchemas(fieldsOf(latest.fields), v.fields)) : null;
    const row = await tx.topicSchemaVersion.create({
      data: {
        topicId,
        version,
        fingerprint: v.fingerprint,
        fields: v.fields,
        fieldCount: v.fields.length,
        changeSummary: summary ? { ...summary } : undefined,
        firstSeenAt,
        path: v.path,
        partitionId: v.partitionId,
        agentInstanceId: agent.agentId,
        reportedBy: replicaId,
      },
      select: { id: true, fingerprint: true, firstSeenAt: true },
    });
    byPrint.set(v.fingerprint, row);
    latest = { version, fields: v.fields };
    count++;
    created.push(version);
    await audit(
      tx,
      { actor: `agent:${agent.agentId}` },
      'schema.newVersion',
      { type: 'topic', id: topicId },
      {
        version,
        fingerprint: v.fingerprint,
        fieldCount: v.fields.length,
        changes: summary,
        path: v.path,
        replica: replicaId,
      },
    );
  }
  return created;
}

const versionSummary = (v: {
  version: number;
  fingerprint: string;
  fieldCount: number;
  changeSummary: unknown;
  firstSeenAt: Date;
  path: string;
  partitionId: string;
  reportedBy: string;
  acknowledgedAt: Date | null;
  createdAt: Date;
}) => {
  const changes = summaryOf(v.changeSummary);
  return {
    version: v.version,
    fingerprint: v.fingerprint,
    fieldCount: v.fieldCount,
    firstSeenAt: v.firstSeenAt.toISOString(),
    recordedAt: v.createdAt.toISOString(),
    path: v.path,
    partitionId: v.partitionId,
    reportedBy: v.reportedBy,
    changes,
    changeText: changes ? describeSchemaChange(changes) : 'first version',
    acknowledged: v.version === 1 || v.acknowledgedAt !== null,
  };
};

const SUMMARY_SELECT = {
  version: true,
  fingerprint: true,
  fieldCount: true,
  changeSummary: true,
  firstSeenAt: true,
  path: true,
  partitionId: true,
  reportedBy: true,
  acknowledgedAt: true,
  createdAt: true,
} as const;

export type SchemaNotice = {
  version: number;
  /** The version the change is counted from: the newest acknowledged one (or 1). */
  sinceVersion: number;
  firstSeenAt: string;
  /** Unacknowledged versions the notice covers. */
  versions: number;
  changes: SchemaChangeSummary;
  text: string;
};

/** The topic page's schema section: newest versions first, and the notice of unacknowledged changes. */
export async function schemaOverview(prisma: PrismaClient, topicId: string) {
  const [rows, total, pending] = await Promise.all([
    prisma.topicSchemaVersion.findMany({
      where: { topicId },
      orderBy: { version: 'desc' },
      take: LISTED_SCHEMA_VERSIONS,
      select: SUMMARY_SELECT,
    }),
    prisma.topicSchemaVersion.count({ where: { topicId } }),
    prisma.topicSchemaVersion.findMany({
      where: { topicId, acknowledgedAt: null, version: { gt: 1 } },
      orderBy: { version: 'asc' },
      select: { version: true, changeSummary: true },
    }),
  ]);
  let notice: SchemaNotice | null = null;
  const newest = rows[0];
  const first = pending[0];
  if (newest && first) {
    const last = pending[pending.length - 1]!;
    const lastRow = rows.find((r) => r.version === last.version) ?? newest;
    let changes = summaryOf(first.changeSummary);
    const sinceVersion = first.version - 1;
    if (pending.length > 1 || !changes) {
      // Several changes since the last acknowledgement: count them as one step, base to newest.
      changes = summarizeDiff(await diffVersions(prisma, topicId, sinceVersion, last.version));
    }
    notice = {
      version: last.version,
      sinceVersion,
      firstSeenAt: lastRow.firstSeenAt.toISOString(),
      versions: pending.length,
      changes,
      text: `Schema v${last.version}: ${describeSchemaChange(changes)}`,
    };
  }
  return { total, versions: rows.map(versionSummary), notice };
}

export async function getSchemaVersion(prisma: PrismaClient, topicId: string, version: number) {
  const row = await prisma.topicSchemaVersion.findUnique({
    where: { topicId_version: { topicId, version } },
    select: { ...SUMMARY_SELECT, fields: true },
  });
  if (!row) throw new AppError('NOT_FOUND', `no schema version ${version} for this topic`);
  return { ...versionSummary(row), fields: fieldsOf(row.fields) };
}

async function diffVersions(
  prisma: PrismaClient,
  topicId: string,
  from: number,
  to: number,
): Promise<SchemaDiff> {
  const rows = await prisma.topicSchemaVersion.findMany({
    where: { topicId, version: { in: [from, to] } },
    select: { version: true, fields: true },
  });
  const fields = (v: number) => {
    const row = rows.find((r) => r.version === v);
    if (!row) throw new AppError('NOT_FOUND', `no schema version ${v} for this topic`);
    return fieldsOf(row.fields);
  };
  return diffSchemas(fields(from), fields(to));
}

/** What changed from version `from` to version `to` (either order; any two versions). */
export async function compareSchemaVersions(prisma: PrismaClient, topicId: string, from: number, to: number) {
  const diff = await diffVersions(prisma, topicId, from, to);
  const summary = summarizeDiff(diff);
  return { from, to, ...diff, summary, text: describeSchemaChange(summary) };
}

/** Acknowledges the changes up to `version` (the notice goes away for everyone); audited. */
export async function acknowledgeSchemaChange(
  prisma: PrismaClient,
  topicId: string,
  version: number,
  who: Actor,
) {
  const exists = await prisma.topicSchemaVersion.findUnique({
    where: { topicId_version: { topicId, version } },
    select: { id: true },
  });
  if (!exists) throw new AppError('NOT_FOUND', `no schema version ${version} for this topic`);
  const { count } = await prisma.topicSchemaVersion.updateMany({
    where: { topicId, version: { gt: 1, lte: version }, acknowledgedAt: null },
    data: { acknowledgedAt: new Date(), acknowledgedById: who.userId ?? null },
  });
  if (count > 0) {
    await audit(prisma, who, 'schema.acknowledge', { type: 'topic', id: topicId }, { version, count });
  }
  return { acknowledged: count };
}

/**
 * Sends each recent schema change (a version after the first) to the alert webhook. Like alerts:
 * only changes of the last hour (configuring a webhook does not replay history). Each change is
 * claimed (`notifiedAt` set) before it is posted, so two web replicas running maintenance never both
 * send it; a failed delivery releases it, stops the pass and is retried next time. Across a crash
 * delivery is at most once: a process that dies between the claim and the end of the POST (or fails
 * to release a failed one) leaves the change claimed, and its webhook notice is never sent (the topic
 * page's notice is unaffected). A POST that times out after the receiver accepted it counts as failed
 * and is sent again.
 */
export async function notifySchemaChanges(
  prisma: PrismaClient,
  box: SecretBox,
  options: { now?: Date; notify?: Notify; log?: (line: string) => void } = {},
): Promise<number> {
  const now = options.now ?? new Date();
  const notify = options.notify ?? postJson;
  const url = await getWebhookUrl(prisma, box).catch((error: Error) => {
    options.log?.(`schema webhook not sent: the webhook setting cannot be read (${error.message})`);
    return null;
  });
  if (!url) return 0;
  const since = new Date(now.getTime() - 3_600_000);
  const expired = await prisma.topicSchemaVersion.updateMany({
    where: { notifiedAt: null, version: { gt: 1 }, createdAt: { lt: since } },
    data: { notifiedAt: now },
  });
  if (expired.count > 0) {
    options.log?.(`schema webhook: ${expired.count} change(s) older than an hour were not sent`);
  }
  const pending = await prisma.topicSchemaVersion.findMany({
    where: { notifiedAt: null, version: { gt: 1 }, createdAt: { gte: since } },
    orderBy: { createdAt: 'asc' },
    take: 100,
    select: {
      id: true,
      topicId: true,
      version: true,
      fingerprint: true,
      fields: true,
      firstSeenAt: true,
      path: true,
      topic: { select: { slug: true } },
    },
  });
  let sent = 0;
  for (const v of pending) {
    const claimed = await prisma.topicSchemaVersion.updateMany({
      where: { id: v.id, notifiedAt: null },
      data: { notifiedAt: new Date() },
    });
    if (claimed.count === 0) continue; // another replica has it
    try {
      const previous = await prisma.topicSchemaVersion.findUnique({
        where: { topicId_version: { topicId: v.topicId, version: v.version - 1 } },
        select: { fields: true },
      });
      const diff = diffSchemas(previous ? fieldsOf(previous.fields) : [], fieldsOf(v.fields));
      const summary = summarizeDiff(diff);
      await notify(url, {
        topic: v.topic.slug,
        kind: 'schema',
        state: 'changed',
        message: `Schema v${v.version} of ${v.topic.slug}: ${describeSchemaChange(summary)}`,
        version: v.version,
        previousVersion: v.version - 1,
        fingerprint: v.fingerprint,
        firstSeenAt: v.firstSeenAt.toISOString(),
        path: v.path,
        summary,
        added: diff.added.slice(0, WEBHOOK_FIELDS),
        removed: diff.removed.slice(0, WEBHOOK_FIELDS),
        changed: diff.changed
          .slice(0, WEBHOOK_FIELDS)
          .map(({ path, from, to, kind }) => ({ path, from, to, kind })),
      });
      sent++;
    } catch (error) {
      // Released for the next pass. The URL may embed a token: never log it.
      await prisma.topicSchemaVersion.update({ where: { id: v.id }, data: { notifiedAt: null } });
      options.log?.(`schema webhook delivery failed: ${(error as Error).message}`);
      break;
    }
  }
  return sent;
}
