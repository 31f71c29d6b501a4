'use client';

import { useMutation } from '@tanstack/react-query';
import type { Route } from 'next';
import { useRouter } from 'next/navigation';
import { ErrorText } from '@/components/ui.tsx';
import { useTRPC } from '@/trpc/client.tsx';

export function SignInForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const signIn = useMutation(
    trpc.auth.signIn.mutationOptions({
      onSuccess: (user) => router.replace(user.mustChangePassword ? ('/account' as Route) : '/'),
    }),
  );

  return (
    <form
      className="mt-6 space-y-4"
      onSubmit={(event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget);
        signIn.mutate({ email: String(form.get('email')), password: String(form.get('password')) });
      }}
    >
      <label className="block text-sm font-medium">
        Email
        <input
          name="email"
          type="email"
          autoComplete="username"
          required
          className="mt-1 block w-full rounded border border-slate-300 px-3 py-2"
        />
      </label>
      <label className="block text-sm font-medium">
        Password
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          required
          className="mt-1 block w-full rounded border border-slate-300 px-3 py-2"
        />
      </label>
      <ErrorText message={signIn.error?.message} />
      <button
        type="submit"
        disabled={signIn.isPending}
        className="w-full rounded bg-slate-900 px-4 py-2 font-medium text-white disabled:opacity-50"
      >
        {signIn.isPending ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
