import 'server-only';
import { appRouter, createContext, hasRole, type SessionUser } from '@hubcap/api';
import { TRPCError } from '@trpc/server';
import { cookies, headers } from 'next/headers';
import { notFound, redirect } from 'next/navigation';
import { cache } from 'react';
import { services } from './services.ts';

/** A tRPC caller for server components, authenticated by the request's session cookie. */
export const serverApi = cache(async () => {
  const requestHeaders = new Headers(await headers());
  const ctx = await createContext(
    services(),
    { url: 'http://server.local/', headers: requestHeaders },
    new Headers(),
  );
  return { ctx, api: appRouter.createCaller(ctx) };
});

/** The signed-in user, or a redirect to the sign-in page. */
export async function requireUser() {
  const { ctx, api } = await serverApi();
  if (!ctx.user) {
    await cookies();
    redirect('/sign-in');
  }
  return { user: ctx.user, api };
}

/** A signed-in user with at least `role`; others are sent to the fleet page. */
export async function requireRole(role: SessionUser['role']) {
  const result = await requireUser();
  if (!hasRole(result.user.role, role)) redirect('/');
  return result;
}

/** Runs a server-side call; a NOT_FOUND becomes the 404 page. */
export async function loadOrNotFound<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof TRPCError && (error.code === 'NOT_FOUND' || error.code === 'BAD_REQUEST'))
      notFound();
    throw error;
  }
}
