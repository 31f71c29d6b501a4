import { appRouter, createContext } from '@hubcap/api';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { services } from '@/server/services.ts';

/**
 * GET /api/topics/<topic>/manifests: the topic's agent manifests as YAML for GitOps, secrets
 * redacted. Authenticated by the session cookie, like the dashboard (viewer role or above).
 */
export async function GET(request: Request, { params }: { params: Promise<{ topic: string }> }) {
  const { topic } = await params;
  const ctx = await createContext(services(), request, new Headers());
  try {
    const { filename, yaml } = await appRouter.createCaller(ctx).deployment.exportManifests({ topic });
    return new Response(yaml, {
      headers: {
        'content-type': 'application/yaml; charset=utf-8',
        'content-disposition': `attachment; filename="${filename}"`,
        'cache-control': 'no-store',
      },
    });
  } catch (error) {
    if (error instanceof TRPCError) {
      return new Response(`${error.message}\n`, {
        status: getHTTPStatusCodeFromError(error),
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      });
    }
    throw error;
  }
}
