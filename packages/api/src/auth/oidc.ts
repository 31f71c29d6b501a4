import { createHash, randomBytes } from 'node:crypto';
import type { PrismaClient, Role } from '@hubcap/db';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { AppError } from '../errors.ts';
import { audit, SYSTEM } from '../services/audit.ts';
import { createSession } from './sessions.ts';

/**
 * Optional single sign-on with any OpenID Connect provider (Microsoft Entra ID:
 * issuer `https://login.microsoftonline.com/<tenant>/v2.0`): authorization code flow with PKCE,
 * the ID token verified against the issuer's keys. Local accounts keep working alongside.
 */
export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The control plane's public base URL; the redirect URI is `<publicUrl>/api/auth/oidc/callback`. */
  publicUrl: string;
  /** Role of accounts created at their first SSO sign-in. */
  defaultRole: Role;
  /** Shown on the sign-in button, e.g. "Microsoft". */
  label: string;
}

export const OIDC_COOKIE = 'hubcap_oidc';
const FLOW_SECONDS = 600;

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

const discoveries = new Map<string, Promise<Discovery>>();
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function discover(issuer: string): Promise<Discovery> {
  let found = discoveries.get(issuer);
  if (!found) {
    found = (async () => {
      const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new Error(`the identity provider's discovery document answered ${res.status}`);
      return (await res.json()) as Discovery;
    })();
    found.catch(() => discoveries.delete(issuer));
    discoveries.set(issuer, found);
  }
  return found;
}

const redirectUri = (config: OidcConfig) => `${config.publicUrl.replace(/\/$/, '')}/api/auth/oidc/callback`;
const b64url = (bytes: Buffer) => bytes.toString('base64url');

/** Where to send the browser, and the cookie that binds the callback to this browser (state, nonce, PKCE verifier). */
export async function startOidc(
  config: OidcConfig,
  secure: boolean,
): Promise<{ location: string; cookie: string }> {
  const meta = await discover(config.issuer);
  const state = b64url(randomBytes(24));
  const nonce = b64url(randomBytes(24));
  const verifier = b64url(randomBytes(32));
  const url = new URL(meta.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(config),
    scope: 'openid profile email',
    state,
    nonce,
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  }).toString();
  const value = [state, nonce, verifier].join('.');
  const cookie = [
    `${OIDC_COOKIE}=${value}`,
    'Path=/api/auth/oidc',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${FLOW_SECONDS}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
  return { location: url.toString(), cookie };
}

/**
 * Completes the sign-in: checks state, exchanges the code, verifies the ID token (signature, issuer,
 * audience, expiry, nonce), then finds the account by subject, links it by email once, or creates it
 * with the default role. Returns a new session token.
 */
export async function finishOidc(
  prisma: PrismaClient,
  config: OidcConfig,
  params: { code: string | null; state: string | null; error: string | null; cookie: string | null },
): Promise<{ sessionToken: string; expiresAt: Date }> {
  if (params.error)
    throw new AppError('UNAUTHORIZED', `the identity provider refused the sign-in (${params.error})`);
  const [state, nonce, verifier] = (params.cookie ?? '').split('.');
  if (!params.code || !params.state || !state || params.state !== state || !nonce || !verifier) {
    throw new AppError('UNAUTHORIZED', 'the sign-in expired or came from another browser; try again');
  }
  const meta = await discover(config.issuer);
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.code,
      redirect_uri: redirectUri(config),
      client_id: config.clientId,
      client_secret: config.clientSecret,
      code_verifier: verifier,
    }),
    signal: AbortSignal.timeout(10_000),
  });
  const tokens = (await res.json().catch(() => ({}))) as { id_token?: string; error?: string };
  if (!res.ok || !tokens.id_token) {
    throw new AppError(
      'UNAUTHORIZED',
      `the identity provider did not issue a token (${tokens.error ?? res.status})`,
    );
  }
  let keys = keySets.get(meta.jwks_uri);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(meta.jwks_uri));
    keySets.set(meta.jwks_uri, keys);
  }
  const { payload } = await jwtVerify(tokens.id_token, keys, {
    issuer: meta.issuer,
    audience: config.clientId,
  }).catch((error: Error) => {
    throw new AppError('UNAUTHORIZED', `the identity token is not valid: ${error.message}`);
  });
  if (payload.nonce !== nonce)
    throw new AppError('UNAUTHORIZED', 'the identity token does not match this sign-in');
  const subject = `${payload.iss}|${payload.sub}`;
  // `preferred_username` is whatever the user or their tenant chose: it names a new account at most,
  // and only an address the provider vouches for (`email_verified`) may link an existing one.
  const verified = payload.email_verified === true || payload.email_verified === 'true';
  const email = String(payload.email ?? payload.preferred_username ?? '').toLowerCase();
  const name = String(payload.name ?? email);

  let user = await prisma.user.findUnique({ where: { oidcSubject: subject } });
  if (!user && email) {
    const byEmail = await prisma.user.findUnique({ where: { email } });
    if (byEmail && (byEmail.oidcSubject || !verified || !payload.email)) {
      throw new AppError(
        'FORBIDDEN',
        `an account for ${email} already exists; single sign-on links to it only when the identity provider verifies that email address (ask an admin)`,
      );
    }
    if (byEmail) {
      user = await prisma.user.update({ where: { id: byEmail.id }, data: { oidcSubject: subject } });
      await audit(
        prisma,
        { actor: `user:${user.id}`, userId: user.id },
        'user.linkSso',
        { type: 'user', id: user.id },
        { email },
      );
    }
  }
  if (!user) {
    if (!email) throw new AppError('UNAUTHORIZED', 'the identity provider did not share an email address');
    user = await prisma.user.create({
      data: { email, name, role: config.defaultRole, oidcSubject: subject },
    });
    await audit(prisma, SYSTEM, 'user.createSso', { type: 'user', id: user.id }, { email, role: user.role });
  }
  if (user.disabledAt) throw new AppError('FORBIDDEN', 'this account is disabled');
  const session = await createSession(prisma, user.id);
  await audit(prisma, { actor: `user:${user.id}`, userId: user.id }, 'auth.signInSso', {
    type: 'user',
    id: user.id,
  });
  return { sessionToken: session.token, expiresAt: session.expiresAt };
}
