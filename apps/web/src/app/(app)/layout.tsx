import type { Route } from 'next';
import { redirect } from 'next/navigation';
import type { ReactNode } from 'react';
import { Nav } from '@/components/nav.tsx';
import { requireUser } from '@/server/caller.ts';

export const dynamic = 'force-dynamic';

/** Every page inside needs a signed-in user; pages that need more check their role themselves. */
export default async function AppLayout({ children }: { children: ReactNode }) {
  const { user, api } = await requireUser();
  if (user.mustChangePassword) redirect('/account' as Route);
  const alerts = await api.alert.list({ state: 'open', limit: 500 });
  return (
    <>
      <Nav email={user.email} role={user.role} openAlerts={alerts.length} />
      <main className="mx-auto max-w-7xl px-4 py-6 sm:px-6 sm:py-8">{children}</main>
    </>
  );
}
