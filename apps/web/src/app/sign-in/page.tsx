import { oidcConfig, SSO_ERRORS } from '@/server/oidc.ts';
import { SignInForm } from './sign-in-form.tsx';

export const dynamic = 'force-dynamic';

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ error?: string }> }) {
  const { error: code } = await searchParams;
  // Only the fixed texts: a link to this page must not be able to put its own words on it.
  const error = code
    ? SSO_ERRORS[Object.hasOwn(SSO_ERRORS, code) ? (code as keyof typeof SSO_ERRORS) : 'failed']
    : null;
  const sso = oidcConfig();
  return (
    <main className="mx-auto mt-24 max-w-sm rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
      <h1 className="text-2xl font-semibold">Sign in to Hubcap</h1>
      <p className="mt-1 text-sm text-slate-500">Event Hubs to your data lake, exactly once.</p>
      {error && (
        <p role="alert" className="mt-4 text-sm text-red-700">
          {error}
        </p>
      )}
      {sso && (
        <a
          href="/api/auth/oidc/start"
          className="mt-6 block rounded border border-slate-300 px-4 py-2 text-center font-medium hover:bg-slate-50"
        >
          Sign in with {sso.label}
        </a>
      )}
      <SignInForm />
    </main>
  );
}
