import type { Route } from 'next';
import Link from 'next/link';
import { formatTime } from '@/components/format.ts';
import { Badge, Card, PageHeader, TableHead } from '@/components/ui.tsx';
import { requireUser } from '@/server/caller.ts';

export default async function AlertsPage({ searchParams }: { searchParams: Promise<{ state?: string }> }) {
  const { api } = await requireUser();
  const state = (await searchParams).state === 'all' ? 'all' : 'open';
  const [alerts, settings] = await Promise.all([api.alert.list({ state, limit: 200 }), api.settings.get()]);
  return (
    <>
      <PageHeader title="Alerts">
        <Link
          href={'/alerts' as Route}
          className={`text-sm ${state === 'open' ? 'font-semibold' : 'underline'}`}
        >
          Open
        </Link>
        <Link
          href={'/alerts?state=all' as Route}
          className={`text-sm ${state === 'all' ? 'font-semibold' : 'underline'}`}
        >
          All
        </Link>
      </PageHeader>
      <Card>
        {alerts.length === 0 ? (
          <p className="text-sm text-slate-500">No {state === 'open' ? 'open ' : ''}alerts.</p>
        ) : (
          <table className="w-full text-sm" data-testid="alerts">
            <TableHead columns={['Topic', 'Kind', 'What', 'Opened', 'Resolved', 'Webhook']} />
            <tbody>
              {alerts.map((a) => (
                <tr key={a.id} className="border-t border-slate-100">
                  <td className="py-1.5">
                    <Link href={`/topics/${a.topic}` as Route} className="underline">
                      {a.topic}
                    </Link>
                  </td>
                  <td className="py-1.5">
                    <Badge tone={a.resolvedAt ? 'resolved' : 'open'}>{a.kind}</Badge>
                  </td>
                  <td className="py-1.5">{a.message}</td>
                  <td className="py-1.5">{formatTime(a.openedAt)}</td>
                  <td className="py-1.5">{formatTime(a.resolvedAt)}</td>
                  <td className="py-1.5">{a.notified ? 'sent' : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <p className="mt-4 text-sm text-slate-500">
        Lag alert: above {settings.alerts.lagSeconds} s for {settings.alerts.lagMinutes} min · silent: no
        report for {settings.alerts.silentMinutes} min · errors: {settings.alerts.errorCount} or more in{' '}
        {settings.alerts.errorMinutes} min · window open {settings.alerts.windowOpenMinutes} min after its end
        · webhook {settings.webhookConfigured ? 'configured' : 'not configured'}. Change them in Settings.
      </p>
    </>
  );
}
