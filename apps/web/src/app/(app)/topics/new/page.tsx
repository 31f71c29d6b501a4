import { TopicForm } from '@/components/topic-form/topic-form.tsx';
import { PageHeader } from '@/components/ui.tsx';
import { requireRole } from '@/server/caller.ts';
import { localServices } from '@/server/local-services.ts';

export default async function NewTopicPage() {
  await requireRole('editor');
  return (
    <>
      <PageHeader title="Onboard a topic" />
      <p className="-mt-4 mb-6 max-w-3xl text-sm text-slate-600">
        Fill in where the events come from and where the files should land. <em>Test connection</em> checks
        both from the server; <em>Preview events</em> shows the latest events and the fields found in them.
        Secrets are encrypted and never shown again.
      </p>
      <TopicForm mode="create" localServices={localServices()} />
    </>
  );
}
