import { TopicName } from '@hubcap/shared';
import type { Route } from 'next';
import Link from 'next/link';
import { formatTime } from '@/components/format.ts';
import { Card, ErrorText, PageHeader, TableHead } from '@/components/ui.tsx';
import { requireRole } from '@/server/caller.ts';

/** Who did what, when, on which topic: for admins, newest first, filterable by topic. */
export default async function AuditPage({ searchParams }: { searchParams: Promise<{ topic?: string }> }) {
  const { api } = await requireRole('admin');
  const topic = (await searchParams).topic?.trim() || undefined;
  const name = topic === undefined ? undefined : TopicName.safeParse(topic);
  const [events, fleet] = await Promise.all([
    name?.success === false
      ? new Error(`"${topic}" is not a topic name: ${name.error.issues[0]?.message}`)
      : api.audit.list({ topic, limit: 200 }),
    api.topic.list(),
  ]);
  return (
    <>
      <PageHeader title="Audit log">
        <form method="get" className="flex flex-wrap items-center gap-2 text-sm" data-testid="audit-filter">
          <label htmlFor="audit-topic">Topic</label>
          <input
            id="audit-topic"
            name="topic"
            list="audit-topics"
            defaultValue={topic ?? ''}
            placeholder="all topics"
            className="w-40 rounded border border-slate-300 px-2 py-1"
          />
          <datalist id="audit-topics">
            {fleet.topics.map((t) => (
              <option key={t.id} value={t.name} />
            ))}
          </datalist>
          <button type="submit" className="rounded border border-slate-300 bg-white px-3 py-1">
            Filter
          </button>
          {topic && (
            <Link href={'/audit' as Route} className="underline">
              All
            </Link>
          )}
        </form>
      </PageHeader>
      <Card>
        {events instanceof Error ? (
          <ErrorText message={events.message} />
        ) : events.length === 0 ? (
          <p className="text-sm text-slate-500">No events{topic ? ` for ${topic}` : ''}.</p>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-sm" data-testid="audit-events">
              <TableHead columns={['When', 'Who', 'What', 'Topic', 'Details']} cell="py-1.5 pr-3" />
              <tbody>
                {events.map((e) => (
                  <tr key={e.id} className="border-t border-slate-100 align-top" data-action={e.action}>
                    <td className="py-1.5 pr-3 whitespace-nowrap">{formatTime(e.createdAt)}</td>
                    <td className="py-1.5 pr-3">{e.actorEmail ?? e.actor}</td>
                    <td className="py-1.5 pr-3 font-mono text-xs">{e.action}</td>
                    <td className="py-1.5 pr-3">
                      {e.topicName ? (
                        <Link href={`/audit?topic=${e.topicName}` as Route} className="underline">
                          {e.topicName}
                        </Link>
                      ) : e.targetType === 'topic' ? (
                        '—'
                      ) : (
                        <span className="text-slate-500">{e.targetType}</span>
                      )}
                    </td>
                    <td className="py-1.5 font-mono text-xs break-all text-slate-600">
                      {Object.keys(e.details as object).length ? JSON.stringify(e.details) : ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}
