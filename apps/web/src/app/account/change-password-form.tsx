'use client';

import { useMutation } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { AccountForm } from '@/components/account-form.tsx';
import { useTRPC } from '@/trpc/client.tsx';

export function ChangePasswordForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const change = useMutation(
    trpc.auth.changePassword.mutationOptions({ onSuccess: () => router.replace('/') }),
  );
  return (
    <AccountForm
      fields={[
        {
          name: 'currentPassword',
          label: 'Current password',
          type: 'password',
          autoComplete: 'current-password',
        },
        {
          name: 'newPassword',
          label: 'New password (12 characters or more)',
          type: 'password',
          autoComplete: 'new-password',
          minLength: 12,
        },
      ]}
      label="Change password"
      busyLabel="Saving…"
      pending={change.isPending}
      error={change.error?.message}
      onSubmit={(value) =>
        change.mutate({ currentPassword: value('currentPassword'), newPassword: value('newPassword') })
      }
    />
  );
}
