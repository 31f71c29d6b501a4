import type { PrismaClient } from '@hubcap/db';
import { type AgentReport, splitTemplate } from '@hubcap/shared';

/** Distinct reasons kept per report; more (which no agent sends) are counted under `other`. */
export const MAX_DEAD_LETTER_REASONS = 32;
/** Distinct reasons kept per topic, whatever its agents send over time; later new ones count as `other`. */
export const MAX_TOPIC_DEAD_LETTER_REASONS = 100;
const REASON = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

/**
 * The report's dead letters by reason, bounded and with names safe to show: reasons the agent did not
 * break down (an agent that only sends the total) are counted as `unspecified`.
 */
export function deadLettersByReason(
  report: Pick<AgentReport, 'deadLettered' | 'deadLetteredByReason'>,
): Record<string, number> {
  // A Map, not an object: a reason may be any safe name, `constructor` included.
  const out = new Map<string, number>();
  for (const [raw, count] of Object.entries(report.deadLetteredByReason ?? {})) {
    if (count <= 0) continue;
    let reason = REASON.test(raw) ? raw.toLowerCase() : 'other';
    if (!out.has(reason) && out.size >= MAX_DEAD_LETTER_REASONS) reason = 'other';
    out.set(reason, (out.get(reason) ?? 0) + count);
  }
  let broken = 0;
  for (const n of out.values()) broken += n;
  if (report.deadLettered > broken) {
    out.set('unspecified', (out.get('unspecified') ?? 0) + report.deadLettered - broken);
  }
  return Object.fromEntries(out);
}

/**
 * Replicas silent this long are gone (pods are replaced, not revived). One that does report again
 * from the same run counts that run's totals again (see packages/db/README.md).
 */
export const REPLICA_RETENTION_MS = 7 * 86_400_000;

export async function pruneReplicas(prisma: PrismaClient, now: Date = new Date()): Promise<number> {
  const { count } = await prisma.agentReplica.deleteMany({
    where: { lastSeenAt: { lt: new Date(now.getTime() - REPLICA_RETENTION_MS) } },
  });
  return count;
}

/**
 * Where the topic's dead letters land: `_deadletter/` under the destination prefix, then the same
 * folder layout as the data (see the agent's README). Read from the stored config, which holds no secret
 * in these fields.
 */
export function deadLetterLocation(config: unknown): string | null {
  const c = config as {
    destination?: { kind?: string; container?: string; prefix?: string; path?: string };
    pathTemplate?: string;
  };
  const d = c?.destination;
  if (!d || typeof c.pathTemplate !== 'string') return null;
  // A last `{ss}` starts the file names (Capture's layout), so it is not a folder.
  const template = splitTemplate(c.pathTemplate.replace(/^\/+|\/+$/g, '')).folder;
  if (d.kind === 'azureBlob' && d.container) {
    const prefix = (d.prefix ?? '').replace(/\/+$/, '');
    return `${d.container}/${prefix ? `${prefix}/` : ''}_deadletter/${template ? `${template}/` : ''}`;
  }
  if (d.kind === 'localFolder' && d.path) {
    return `${d.path.replace(/\/+$/, '')}/_deadletter/${template ? `${template}/` : ''}`;
  }
  return null;
}
