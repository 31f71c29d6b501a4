import { PageHeader } from '@/components/ui.tsx';
import { UsersAdmin } from '@/components/users-admin.tsx';
import { requireRole } from '@/server/caller.ts';

export default async function UsersPage() {
  const { user, api } = await requireRole('admin');
  const users = await api.user.list();
  return (
    <>
      <PageHeader title="Users" />
      <UsersAdmin initial={users} selfId={user.id} />
    </>
  );
}
