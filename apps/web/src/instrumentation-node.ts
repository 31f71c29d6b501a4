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

/** Creates the first admin from HUBCAP_ADMIN_EMAIL / HUBCAP_ADMIN_PASSWORD on an empty database. */
async function bootstrapAdmin() {
  const { HUBCAP_ADMIN_EMAIL: email, HUBCAP_ADMIN_PASSWORD: password } = env();
  if (!email || !password) return;
  if (await ensureAdmin(services().prisma, email, password)) {
    console.error(
      JSON.stringify({ level: 'info', service: 'hubcap-web', msg: `created the first admin, ${email}` }),
    );
  }
}

export async function registerNode() {
  await bootstrapAdmin();
  await startDeployments();
  if (process.env.HUBCAP_MAINTENANCE === 'off') return;
  const { prisma, secrets } = services();
  startMaintenance(prisma, secrets, {
    intervalMs: 30_000,
    notify: webhookPoster(env().HUBCAP_ALLOWED_ENDPOINTS),
    log: (line) => console.error(JSON.stringify({ level: 'warn', service: 'hubcap-web', msg: line })),
  });
}
