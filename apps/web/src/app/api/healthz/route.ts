/**
 * Liveness: the server process answers. It does not touch the database, so a database outage never
 * makes Kubernetes restart every web pod (readiness, /api/readyz, takes them out of the Service instead).
 */
export function GET() {
  return Response.json({ status: 'ok' });
}
