import { services } from '@/server/services.ts';

/** Readiness: the database answers. Reveals nothing else. */
export async function GET() {
  try {
    await services().prisma.$queryRaw`SELECT 1`;
    return Response.json({ status: 'ok' });
  } catch {
    return Response.json({ status: 'database unavailable' }, { status: 503 });
  }
}
