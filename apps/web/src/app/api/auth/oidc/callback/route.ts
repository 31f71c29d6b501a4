import { finishOidc, OIDC_COOKIE, readCookie, sessionCookie } from '@hubcap/api';
import { isSecure, oidcConfig, ssoErrorCode } from '@/server/oidc.ts';
import { services } from '@/server/services.ts';

/** The identity provider's redirect back: a session on success, the sign-in page with a reason code otherwise. */
export async function GET(request: Request) {
  const config = oidcConfig();
  if (!config) return new Response('single sign-on is not configured', { status: 404 });
  const url = new URL(request.url);
  const secure = isSecure(config);
  const headers = new Headers();
  // The flow cookie is single-use.
  headers.append('set-cookie', `${OIDC_COOKIE}=; Path=/api/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=0`);
  try {
    const session = await finishOidc(services().prisma, config, {
      code: url.searchParams.get('code'),
      state: url.searchParams.get('state'),
      error: url.searchParams.get('error'),
      cookie: readCookie(request.headers.get('cookie'), OIDC_COOKIE),
    });
    headers.append('set-cookie', sessionCookie(session.sessionToken, session.expiresAt, secure));
    headers.set('location', `${config.publicUrl}/`);
  } catch (error) {
    headers.set('location', `${config.publicUrl}/sign-in?error=${ssoErrorCode(error)}`);
  }
  return new Response(null, { status: 302, headers });
}
