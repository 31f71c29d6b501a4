import { startOidc } from '@hubcap/api';
import { isSecure, oidcConfig } from '@/server/oidc.ts';

/** Sends the browser to the identity provider. */
export async function GET() {
  const config = oidcConfig();
  if (!config) return new Response('single sign-on is not configured', { status: 404 });
  try {
    const { location, cookie } = await startOidc(config, isSecure(config));
    return new Response(null, { status: 302, headers: { location, 'set-cookie': cookie } });
  } catch {
    return Response.redirect(
      `${config.publicUrl}/sign-in?error=${encodeURIComponent('the identity provider is unreachable')}`,
      302,
    );
  }
}
