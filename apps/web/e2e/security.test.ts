import { ensureAdmin } from '@hubcap/api';
import { createTestDatabase, type TestDatabase } from '@hubcap/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWeb, type WebServer } from './server.ts';

/**
 * The running control plane (`next start`) attacked over HTTP the ways a review found open: what the
 * API tests cover behind the handler is checked here through Next.js itself (headers, proxies,
 * body streaming). Browser-level proof that the app works under its CSP is in control-plane.test.ts.
 */

const ADMIN = { email: 'admin@example.com', password: 'security suite password' };
let db: TestDatabase;
let web: WebServer;

beforeAll(async () => {
  db = await createTestDatabase();
  await ensureAdmin(db.prisma, ADMIN.email, ADMIN.password);
  web = await startWeb(db.url, { HUBCAP_MAINTENANCE: 'off' });
});
afterAll(async () => {
  await web?.close();
  await db?.drop();
});

const post = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
  fetch(`${web.url}/api/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

describe('the running control plane', () => {
  it('sends security headers on pages and API responses, with a fresh CSP nonce per page', async () => {
    const [page, again, api] = await Promise.all([
      fetch(`${web.url}/sign-in`),
      fetch(`${web.url}/sign-in`),
      fetch(`${web.url}/api/healthz`),
    ]);
    for (const res of [page, api]) {
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('same-origin');
      expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    }
    const csp = page.headers.get('content-security-policy')!;
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    expect(again.headers.get('content-security-policy')).not.toContain(nonce);
    // Next.js put the nonce on its scripts.
    expect(await page.text()).toContain(`nonce="${nonce}"`);
    expect(api.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('refuses batched sign-ins, long batches and oversized bodies at once', async () => {
    const input = { email: 'x@example.com', password: 'x' };
    const batch = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [i, input]));
    const paths = Array.from({ length: 32 }, () => 'auth.signIn').join(',');
    const started = Date.now();
    const batched = await post(`${paths}?batch=1`, JSON.stringify(batch));
    expect(batched.status).toBe(400);
    expect(Date.now() - started).toBeLessThan(2000);

    const many = Array.from({ length: 1300 }, () => 'auth.me').join(',');
    expect((await fetch(`${web.url}/api/trpc/${many}?batch=1&input={}`)).status).toBe(400);

    const big = await post('auth.signIn', new Uint8Array(100 * 1024 * 1024));
    expect(big.status).toBe(413);
  });

  it('throttles sign-in guesses with 429 + Retry-After', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 6; i++) {
      const res = await post('auth.signIn', JSON.stringify({ email: ADMIN.email, password: `guess ${i}` }));
      statuses.push(res.status);
      retryAfter = res.headers.get('retry-after');
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });

  it('refuses state changes from another origin or site, and form posts', async () => {
    const body = JSON.stringify({});
    expect((await post('auth.signOut', body, { origin: 'http://127.0.0.1:1' })).status).toBe(403);
    expect((await post('auth.signOut', body, { 'sec-fetch-site': 'same-site' })).status).toBe(403);
    const form = new FormData();
    form.set('x', 'y');
    const multipart = await fetch(`${web.url}/api/trpc/auth.signOut`, { method: 'POST', body: form });
    expect(multipart.status).toBe(415);
  });

  it('never echoes ?error= text on the sign-in page, and hides internal errors', async () => {
    const html = await (
      await fetch(`${web.url}/sign-in?error=Your%20account%20was%20suspended%2C%20call%20555`)
    ).text();
    expect(html).not.toContain('call 555');
    expect(html).toContain('Single sign-on failed');
  });
});
