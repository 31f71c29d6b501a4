import type { Route } from 'next';
import Link from 'next/link';
import { FleetTable } from '@/components/fleet-table.tsx';
import { ReconcileProgress } from '@/components/reconcile-progress.tsx';
import { PageHeader } from '@/components/ui.tsx';
import { requireUser } from '@/server/caller.ts';

export default async function FleetPage() {
  const { user, api } = await requireUser();
  const [fleet, reconcile] = await Promise.all([api.topic.list(), api.deployment.reconcileProgress()]);
  return (
    <>
      <PageHeader title="Fleet">
        {user.role !== 'viewer' && (
          <Link
            href={'/topics/new' as Route}
            className="rounded bg-slate-900 px-3 py-1.5 text-sm font-medium text-white"
          >
            Onboard a topic
          </Link>
        )}
      </PageHeader>
      <ReconcileProgress initial={reconcile} />
      <FleetTable initial={fleet} isAdmin={user.role === 'admin'} />
    </>
  );
}
