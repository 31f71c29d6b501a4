import { TopicLive } from '@/components/topic-live.tsx';
import { loadOrNotFound, requireUser } from '@/server/caller.ts';

export default async function TopicPage({ params }: { params: Promise<{ name: string }> }) {
  const { user, api } = await requireUser();
  const { name } = await params;
  const [detail, versions] = await Promise.all([
    loadOrNotFound(() => api.topic.get({ name, range: '1h' })),
    loadOrNotFound(() => api.topic.listVersions({ name })),
  ]);
  return <TopicLive initial={detail} versions={versions} canEdit={user.role !== 'viewer'} />;
}
