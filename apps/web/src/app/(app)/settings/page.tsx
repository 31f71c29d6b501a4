import { SettingsForm } from '@/components/settings-form.tsx';
import { PageHeader } from '@/components/ui.tsx';
import { requireUser } from '@/server/caller.ts';

export default async function SettingsPage() {
  const { user, api } = await requireUser();
  const settings = await api.settings.get();
  return (
    <>
      <PageHeader title="Settings" />
      <SettingsForm initial={settings} canEdit={user.role === 'admin'} />
    </>
  );
}
