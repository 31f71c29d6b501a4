import type { Route } from 'next';
import Link from 'next/link';
import { CaptureCutover } from '@/components/capture-cutover.tsx';
import { PageHeader } from '@/components/ui.tsx';
import { loadOrNotFound, requireUser } from '@/server/caller.ts';

export default async function CutoverPage({ params }: { params: Promise<{ name: string }> }) {
  const { user, api } = await requireUser();
  const { name } = await params;
  await loadOrNotFound(() => api.topic.listVersions({ name }));
  return (
    <>
      <PageHeader title={`Cut over ${name} from Event Hubs Capture`}>
        <Link href={`/topics/${name}` as Route} className="text-sm underline">
          Back to topic
        </Link>
      </PageHeader>
      <CaptureCutover topic={name} canEdit={user.role !== 'viewer'} />
    </>
  );
}
