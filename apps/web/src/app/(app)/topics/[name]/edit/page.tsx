import type { TopicConfigInput } from '@hubcap/shared';
import type { Route } from 'next';
import Link from 'next/link';
import { TopicForm } from '@/components/topic-form/topic-form.tsx';
import { PageHeader } from '@/components/ui.tsx';
import { loadOrNotFound, requireRole } from '@/server/caller.ts';

export default async function EditTopicPage({ params }: { params: Promise<{ name: string }> }) {
  const { api } = await requireRole('editor');
  const { name } = await params;
  const [current, measurement] = await Promise.all([
    loadOrNotFound(() => api.topic.getConfig({ name })),
    loadOrNotFound(() => api.topic.getMeasuredRates({ name })),
  ]);
  return (
    <>
      <PageHeader title={`Edit ${current.name}`}>
        <Link href={`/topics/${current.name}` as Route} className="text-sm underline">
          Back to topic
        </Link>
      </PageHeader>
      <p className="-mt-4 mb-6 text-sm text-slate-600">
        Currently version {current.version}. Saving makes a new version and applies it to a deployed topic at
        once: the agents switch in place, or restart when they must; the topic page shows the version each
        replica runs.
      </p>
      {/* The stored config passed TopicConfig when it was saved. */}
      <TopicForm
        mode="edit"
        initial={current.config as TopicConfigInput}
        storedSecrets={current.storedSecrets}
        measurement={measurement}
      />
    </>
  );
}
