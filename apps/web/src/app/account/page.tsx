import Link from 'next/link';
import { requireUser } from '@/server/caller.ts';
import { ChangePasswordForm } from './change-password-form.tsx';

export const dynamic = 'force-dynamic';

/** Outside the app's layout: an account with an admin-generated password can reach only this page. */
export default async function AccountPage() {
  const { user } = await requireUser();
  return (
    <main className="mx-auto mt-24 max-w-sm rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
      <h1 className="text-2xl font-semibold">Change your password</h1>
      <p className="mt-1 text-sm text-slate-500">{user.email}</p>
      {user.mustChangePassword && (
        <p role="status" className="mt-4 text-sm text-amber-800">
          Your password was set by an admin: choose your own to continue.
        </p>
      )}
      <ChangePasswordForm />
      {!user.mustChangePassword && (
        <Link href="/" className="mt-4 block text-center text-sm text-slate-600 underline">
          Back to the fleet
        </Link>
      )}
    </main>
  );
}
