/**
 * Runs once per server process at start: the first admin (when configured and the database has no
 * users), deployments (reap orphans, reconcile), then background
 * maintenance (per-minute metric rollups, alert evaluation with webhook delivery, pruning beyond
 * retention). Replicas share maintenance through a lease row in the database.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  await bootstrapAdmin();
  const { startDeployments } = await import('./server/deployments.ts');
  await startDeployments();
  if (process.env.HUBCAP_MAINTENANCE === 'off') return;
  const { startMaintenance } = await import('@hubcap/api');
  const { services } = await import('./server/services.ts');
  const { prisma, secrets } = services();
  startMaintenance(prisma, secrets, {
    intervalMs: 30_000,
    log: (line) => console.error(JSON.stringify({ level: 'warn', service: 'hubcap-web', msg: line })),
  });
}

/** Creates the first admin from HUBCAP_ADMIN_EMAIL / HUBCAP_ADMIN_PASSWORD on an empty database. */
async function bootstrapAdmin() {
  const { env } = await import('./env.ts');
  const { HUBCAP_ADMIN_EMAIL: email, HUBCAP_ADMIN_PASSWORD: password } = env();
  if (!email || !password) return;
  const { ensureAdmin } = await import('@hubcap/api');
  const { services } = await import('./server/services.ts');
  if (await ensureAdmin(services().prisma, email, password)) {
    console.error(
      JSON.stringify({ level: 'info', service: 'hubcap-web', msg: `created the first admin, ${email}` }),
    );
  }
}
