/**
 * Runs once per server process at start: background maintenance (per-minute metric rollups, alert
 * evaluation with webhook delivery, pruning beyond retention). Replicas share the work through a
 * lease row in the database, so running several control planes is safe.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs' || process.env.HUBCAP_MAINTENANCE === 'off') return;
  const { startMaintenance } = await import('@hubcap/api');
  const { services } = await import('./server/services.ts');
  const { prisma, secrets } = services();
  startMaintenance(prisma, secrets, {
    intervalMs: 30_000,
    log: (line) => console.error(JSON.stringify({ level: 'warn', service: 'hubcap-web', msg: line })),
  });
}
