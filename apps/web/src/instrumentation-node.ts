/**
 * Start-up work of a Node.js server process: the first admin (when configured and the database has no
 * users), deployments (reap orphans, reconcile), then background maintenance (per-minute metric
 * rollups, alert evaluation with webhook delivery, pruning beyond retention). Replicas share
 * maintenance through a lease row in the database.
 */
import { ensureAdmin, startMaintenance, webhookPoster } from '@hubcap/api';
import { env } from './env.ts';
import { startDeployments } from './server/deployments.ts';
import { services } from './server/services.ts';

/**
 * Creates the first admin from HUBCAP_ADMIN_EMAIL (and HUBCAP_ADMIN_PASSWORD) on a database without
 * users. Without a password one is generated and printed here, once: the only place it ever appears
 * (Docker Compose promises it in `docker compose logs web`).
 */
async function bootstrapAdmin() {
  const { HUBCAP_ADMIN_EMAIL: email, HUBCAP_ADMIN_PASSWORD: password } = env();
  if (!email) return;
  const { prisma, log } = services();
  const created = await ensureAdmin(prisma, email, password);
  if (!created) return;
  log.info(
    password
      ? `created the first admin, ${email}`
      : `created the first admin, ${email}, with the password ${created.password} (shown once: sign in and change it)`,
  );
}

export async function registerNode() {
  await bootstrapAdmin();
  await startDeployments();
  if (env().HUBCAP_MAINTENANCE === 'off') return;
  const { prisma, secrets, log } = services();
  startMaintenance(prisma, secrets, {
    intervalMs: 30_000,
    notify: webhookPoster(env().HUBCAP_ALLOWED_ENDPOINTS),
    log: (line) => log.warn(line),
  });
}
