import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishOidc, type OidcConfig, startOidc } from '../src/auth/oidc.ts';
import { userForSession } from '../src/auth/sessions.ts';
import { type Harness, startHarness } from './harness.ts';

/** A minimal OpenID provider: discovery, keys, and a token endpoint that checks PKCE. */
let issuer: string;
let server: Server;
let api: Harness;
const challenges = new Map<string, { challenge: string; nonce: string; claims: Record<string, unknown> }>();
let signIdToken: (claims: Record<string, unknown>) => Promise<string>;

beforeAll(async () => {
  api = await startHarness();
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  server = createServer(async (req, res) => {
    const url = new URL(req.url!, issuer);
    if (url.pathname === '/.well-known/openid-configuration') {
      res.end(
        JSON.stringify({
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/keys`,
        }),
      );
    } else if (url.pathname === '/keys') {
      res.end(JSON.stringify({ keys: [jwk] }));
    } else if (url.pathname === '/token') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const form = new URLSearchParams(body);
      const flow = challenges.get(form.get('code')!);
      const verifier = createHash('sha256').update(form.get('code_verifier')!).digest('base64url');
      if (!flow || flow.challenge !== verifier || form.get('client_secret') !== 'shh') {
        res.statusCode = 400;
        res.end(JSON.stringify({ error: 'invalid_grant' }));
        return;
      }
      res.end(JSON.stringify({ id_token: await signIdToken({ nonce: flow.nonce, ...flow.claims }) }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  signIdToken = (claims) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience(String(claims.aud ?? 'hubcap'))
      .setSubject(String(claims.sub ?? 'entra-user-1'))
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
});
afterAll(async () => {
  server?.close();
  await api?.close();
});

const config = (): OidcConfig => ({
  issuer,
  clientId: 'hubcap',
  clientSecret: 'shh',
  publicUrl: 'https://hubcap.example.com',
  defaultRole: 'viewer',
  label: 'Microsoft',
});

/** The browser's round trip: start, the provider redirects back with a code, finish. */
async function signInVia(claims: Record<string, unknown>, tamper: { state?: string } = {}) {
  const started = await startOidc(config(), true);
  const location = new URL(started.location);
  expect(location.searchParams.get('redirect_uri')).toBe('https://hubcap.example.com/api/auth/oidc/callback');
  expect(started.cookie).toMatch(/HttpOnly; SameSite=Lax; Max-Age=600; Secure$/);
  const code = `code-${Math.random()}`;
  challenges.set(code, {
    challenge: location.searchParams.get('code_challenge')!,
    nonce: location.searchParams.get('nonce')!,
    claims,
  });
  const cookie = started.cookie.split(';')[0]!.split('=')[1]!;
  return finishOidc(api.prisma, config(), {
    code,
    state: tamper.state ?? location.searchParams.get('state'),
    error: null,
    cookie,
  });
}

describe('OIDC sign-in', () => {
  it('creates an account with the default role at the first sign-in, and finds it by subject afterwards', async () => {
    const first = await signInVia({ sub: 'entra-1', email: 'Lin@Example.com', name: 'Lin' });
    const user = await userForSession(api.prisma, first.sessionToken);
    expect(user).toMatchObject({ email: 'lin@example.com', role: 'viewer' });
    const again = await signInVia({ sub: 'entra-1', email: 'lin@example.com' });
    expect((await userForSession(api.prisma, again.sessionToken))!.id).toBe(user!.id);
    expect(await api.prisma.user.count({ where: { email: 'lin@example.com' } })).toBe(1);
  });

  it('links an existing local account only by a verified email, never by preferred_username', async () => {
    await api.prisma.user.create({ data: { email: 'admin@example.com', name: 'Ad', role: 'admin' } });
    await expect(signInVia({ sub: 'evil-1', email: 'admin@example.com' })).rejects.toThrow(/verifies/);
    await expect(
      signInVia({ sub: 'evil-2', email: 'admin@example.com', email_verified: false }),
    ).rejects.toThrow(/verifies/);
    await expect(
      signInVia({ sub: 'evil-3', preferred_username: 'admin@example.com', email_verified: true }),
    ).rejects.toThrow(/verifies/);
    const admin = await api.prisma.user.findUniqueOrThrow({ where: { email: 'admin@example.com' } });
    expect(admin.oidcSubject).toBeNull();
  });

  it('links an existing local account by verified email, keeping its role', async () => {
    await api.prisma.user.create({ data: { email: 'ed@example.com', name: 'Ed', role: 'editor' } });
    const done = await signInVia({ sub: 'entra-2', email: 'ed@example.com', email_verified: true });
    expect(await userForSession(api.prisma, done.sessionToken)).toMatchObject({
      email: 'ed@example.com',
      role: 'editor',
    });
  });

  it('refuses a wrong state, a disabled account, and a token for another audience', async () => {
    await expect(signInVia({ sub: 'entra-3', email: 'x@example.com' }, { state: 'forged' })).rejects.toThrow(
      /expired or came from another browser/,
    );
    await api.prisma.user.create({
      data: {
        email: 'off@example.com',
        name: 'Off',
        disabledAt: new Date(),
        oidcSubject: `${issuer}|entra-4`,
      },
    });
    await expect(signInVia({ sub: 'entra-4', email: 'off@example.com' })).rejects.toThrow(/disabled/);
    await expect(signInVia({ sub: 'entra-5', email: 'y@example.com', aud: 'someone-else' })).rejects.toThrow(
      /not valid/,
    );
  });
});
