/**
 * Runs once per server process at start: deployments (reap orphans, reconcile), then background
 * maintenance (per-minute metric rollups, alert evaluation with webhook delivery, pruning beyond
 * retention). Replicas share maintenance through a lease row in the database.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
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
