import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { createTestDatabase, type TestDatabase } from '@hubcap/db/testing';
import { afterEach, beforeEach } from 'vitest';
import { hashPassword } from '../src/auth/password.ts';
import { SecretBox } from '../src/auth/secret-box.ts';
import { type ApiServices, createContext, type SecurityPolicy } from '../src/context.ts';
import { handleApiRequest } from '../src/http.ts';
import { appRouter } from '../src/root.ts';

/** The API exactly as the web server mounts it, over a fresh database. */
export interface Harness extends ApiServices {
  db: TestDatabase;
  /** Calls a procedure over HTTP; `as` is a session cookie or an agent token, with extra headers. */
  call(
    path: string,
    input?: unknown,
    as?: { cookie?: string; token?: string; headers?: Record<string, string> },
    // biome-ignore lint/suspicious/noExplicitAny: tests read tRPC's JSON envelope as it comes.
  ): Promise<{ status: number; body: any; setCookie: string | null; headers: Headers }>;
  /** Sends a raw request to the endpoint, as the web server would receive it. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Creates a user with `role` and returns its session cookie. */
  signedIn(role: 'viewer' | 'editor' | 'admin'): Promise<string>;
  /** A server-side caller authenticated like an HTTP request with these credentials. */
  caller(as?: { cookie?: string; token?: string }): Promise<ReturnType<typeof appRouter.createCaller>>;
  close(): Promise<void>;
}

const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>;
/** Queries and subscriptions go as GET, mutations as POST, as the tRPC client sends them. */
const isGet = (path: string) => procedures[path]?._def.type !== 'mutation';

/** What the local platform allows: its own services on this machine, local folders under the temp dir. */
export const LOCAL_POLICY: SecurityPolicy = {
  allowedEndpoints: ['127.0.0.1', 'localhost'],
  localFolderRoot: tmpdir(),
};

/** `extra`: services beyond the database and the secret box, e.g. a deployer or another policy. */
export async function startHarness(extra: Partial<ApiServices> = {}): Promise<Harness> {
  const db = await createTestDatabase();
  const services: ApiServices = {
    prisma: db.prisma,
    secrets: new SecretBox(randomBytes(32)),
    policy: LOCAL_POLICY,
    ...extra,
  };

  const call: Harness['call'] = async (path, input, as = {}) => {
    const headers = new Headers({ 'content-type': 'application/json', ...as.headers });
    if (as.cookie) headers.set('cookie', as.cookie);
    if (as.token) headers.set('authorization', `Bearer ${as.token}`);
    const query = isGet(path);
    const url = `http://hubcap.test/api/trpc/${path}${query && input !== undefined ? `?input=${encodeURIComponent(JSON.stringify(input))}` : ''}`;
    const req = new Request(url, {
      method: query ? 'GET' : 'POST',
      headers,
      body: query ? undefined : JSON.stringify(input ?? null),
    });
    const res = await handleApiRequest(services, req);
    return {
      status: res.status,
      body: await res.json(),
      setCookie: res.headers.get('set-cookie'),
      headers: res.headers,
    };
  };

  let users = 0;
  const signedIn: Harness['signedIn'] = async (role) => {
    const email = `${role}${++users}@example.com`;
    await db.prisma.user.create({
      data: { email, name: role, role, passwordHash: await hashPassword('correct horse battery') },
    });
    const { setCookie } = await call('auth.signIn', { email, password: 'correct horse battery' });
    return setCookie!.split(';')[0]!;
  };

  const caller: Harness['caller'] = async (as = {}) => {
    const headers = new Headers();
    if (as.cookie) headers.set('cookie', as.cookie);
    if (as.token) headers.set('authorization', `Bearer ${as.token}`);
    return appRouter.createCaller(
      await createContext(services, { url: 'http://hubcap.test/', headers }, new Headers()),
    );
  };

  const fetch: Harness['fetch'] = (path, init) =>
    handleApiRequest(services, new Request(`http://hubcap.test/api/trpc/${path}`, init));

  return { ...services, db, call, fetch, signedIn, caller, close: () => db.drop() };
}

/**
 * A fresh harness for every test of the file, closed after it; `ready` runs once it started (sign
 * people in, create topics) and receives it.
 */
export function harnessPerTest(ready: (api: Harness) => Promise<void> | void = () => {}): void {
  let api: Harness | undefined;
  beforeEach(async () => {
    api = await startHarness();
    await ready(api);
  });
  afterEach(() => api?.close());
}
