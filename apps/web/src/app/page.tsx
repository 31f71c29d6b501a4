import { requireUser } from '@/server/caller.ts';

export const dynamic = 'force-dynamic';

export default async function FleetPage() {
  const { user, api } = await requireUser();
  const topics = await api.topic.list();
  return (
    <main className="mx-auto max-w-6xl p-8">
      <header className="flex items-baseline justify-between">
        <h1 className="text-2xl font-semibold">Fleet</h1>
        <span className="text-sm text-slate-500">
          {user.email} · {user.role}
        </span>
      </header>
      {topics.length === 0 ? (
        <p className="mt-8 text-slate-500">No topics yet.</p>
      ) : (
        <table className="mt-6 w-full border-collapse bg-white text-sm">
          <thead>
            <tr className="border-b border-slate-200 text-left text-slate-500">
              <th className="p-3">Topic</th>
              <th className="p-3">State</th>
              <th className="p-3">Deployment</th>
              <th className="p-3">Last report</th>
            </tr>
          </thead>
          <tbody>
            {topics.map((topic) => (
              <tr key={topic.id} className="border-b border-slate-100">
                <td className="p-3 font-medium">{topic.slug}</td>
                <td className="p-3">{topic.desiredState}</td>
                <td className="p-3">{topic.deployment?.phase ?? 'not deployed'}</td>
                <td className="p-3">{topic.lastSeenAt ? topic.lastSeenAt.toISOString() : 'never'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
