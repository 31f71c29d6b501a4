import type { PrismaClient } from '@hubcap/db';
import type { SecretBox } from '../auth/secret-box.ts';
import { pruneSessions } from '../auth/sessions.ts';
import { getSettings } from './accounts/settings.ts';
import { notifySchemaChanges } from './schema/schema-history.ts';
import { evaluateAlerts } from './telemetry/alerts.ts';
import { pruneReplicas } from './telemetry/dead-letters.ts';
import { probeLag } from './telemetry/lag-probe.ts';
import { pruneMetrics, rollupMinutes } from './telemetry/metrics.ts';
import type { Notify } from './telemetry/webhook.ts';

/**
 * One control-plane replica per interval runs maintenance: a lease row whose timestamp only moves
 * forward when the previous pass is older than `leaseMs`. No lock to release, nothing held on a pooled
 * connection.
 */
async function takeLease(prisma: PrismaClient, now: Date, leaseMs: number): Promise<boolean> {
  const rows = await prisma.$queryRaw<{ key: string }[]>`
    INSERT INTO "Setting" (key, value, "updatedAt") VALUES ('maintenance.lease', '{}', ${now}::timestamp)
    ON CONFLICT (key) DO UPDATE SET "updatedAt" = EXCLUDED."updatedAt"
    WHERE "Setting"."updatedAt" <= ${new Date(now.getTime() - leaseMs)}::timestamp
    RETURNING key`;
  return rows.length > 0;
}

/**
 * One pass: read every deployed topic's lag from Event Hubs and its checkpoint store, roll up the last
 * minutes, evaluate alerts, send schema changes to the webhook, prune beyond retention. Skipped if
 * another replica runs it.
 */
export async function runMaintenance(
  prisma: PrismaClient,
  box: SecretBox,
  options: { now?: Date; log?: (line: string) => void; leaseMs?: number; notify?: Notify } = {},
) {
  const now = options.now ?? new Date();
  if (!(await takeLease(prisma, now, options.leaseMs ?? 20_000))) return null;
  const settings = await getSettings(prisma);
  const lag = await probeLag(prisma, box, { now, log: options.log });
  const rolled = await rollupMinutes(prisma, new Date(now.getTime() - 3 * 60_000), now);
  const { log, notify } = options;
  const alerts = await evaluateAlerts(prisma, box, { now, log, notify });
  const schemaChanges = await notifySchemaChanges(prisma, box, { now, log, notify });
  const pruned = {
    ...(await pruneMetrics(prisma, settings.retention, now)),
    replicas: await pruneReplicas(prisma, now),
    sessions: await pruneSessions(prisma, now),
  };
  return { lag, rolled, alerts, schemaChanges, pruned };
}

/** Runs maintenance every `intervalMs` until `stop()` is called; errors are logged, never thrown. */
export function startMaintenance(
  prisma: PrismaClient,
  box: SecretBox,
  options: { intervalMs?: number; log?: (line: string) => void; notify?: Notify } = {},
): { stop(): void } {
  const log = options.log ?? ((line) => console.error(line));
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await runMaintenance(prisma, box, { log, notify: options.notify });
    } catch (error) {
      log(`maintenance failed: ${(error as Error).message}`);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), options.intervalMs ?? 30_000);
  timer.unref();
  void tick();
  return { stop: () => clearInterval(timer) };
}
