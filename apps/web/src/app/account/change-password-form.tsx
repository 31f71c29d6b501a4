'use client';

import { useMutation } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { ErrorText } from '@/components/ui.tsx';
import { useTRPC } from '@/trpc/client.tsx';

export function ChangePasswordForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const change = useMutation(
    trpc.auth.changePassword.mutationOptions({ onSuccess: () => router.replace('/') }),
  );

  return (
    <form
      className="mt-6 space-y-4"
      onSubmit={(event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget);
        change.mutate({
          currentPassword: String(form.get('currentPassword')),
          newPassword: String(form.get('newPassword')),
        });
      }}
    >
      <label className="block text-sm font-medium">
        Current password
        <input
          name="currentPassword"
          type="password"
          autoComplete="current-password"
          required
          className="mt-1 block w-full rounded border border-slate-300 px-3 py-2"
        />
      </label>
      <label className="block text-sm font-medium">
        New password (12 characters or more)
        <input
          name="newPassword"
          type="password"
          autoComplete="new-password"
          minLength={12}
          required
          className="mt-1 block w-full rounded border border-slate-300 px-3 py-2"
        />
      </label>
      <ErrorText message={change.error?.message} />
      <button
        type="submit"
        disabled={change.isPending}
        className="w-full rounded bg-slate-900 px-4 py-2 font-medium text-white disabled:opacity-50"
      >
        {change.isPending ? 'Saving…' : 'Change password'}
      </button>
    </form>
  );
}
