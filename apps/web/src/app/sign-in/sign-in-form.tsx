'use client';

import { useMutation } from '@tanstack/react-query';
import type { Route } from 'next';
import { useRouter } from 'next/navigation';
import { AccountForm } from '@/components/account-form.tsx';
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
    <AccountForm
      fields={[
        { name: 'email', label: 'Email', type: 'email', autoComplete: 'username' },
        { name: 'password', label: 'Password', type: 'password', autoComplete: 'current-password' },
      ]}
      label="Sign in"
      busyLabel="Signing in…"
      pending={signIn.isPending}
      error={signIn.error?.message}
      onSubmit={(value) => signIn.mutate({ email: value('email'), password: value('password') })}
    />
  );
}
