import 'server-only';
import { appRouter, createContext } from '@hubcap/api';
import { cookies, headers } from 'next/headers';
import { redirect } from 'next/navigation';
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
