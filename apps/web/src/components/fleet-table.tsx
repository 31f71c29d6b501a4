'use client';

import type { AppRouter } from '@hubcap/api';
import { useQuery } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import type { Route } from 'next';
import Link from 'next/link';
import { useMemo, useState } from 'react';
import { useTRPC } from '@/trpc/client.tsx';
import { Ago } from './ago.tsx';
import { formatMoney, formatNumber, formatSeconds } from './format.ts';
import { NamespaceCosts } from './namespace-costs.tsx';
import { Badge, Stat } from './ui.tsx';

type Fleet = inferRouterOutputs<AppRouter>['topic']['list'];
type Topic = Fleet['topics'][number];

/** Rows per page: a fleet of hundreds stays quick to render and to scan. */
const PAGE_SIZE = 50;

const STATUSES = ['starting', 'healthy', 'lagging', 'stale', 'failing', 'paused', 'not deployed'];
const STATUS_ORDER = Object.fromEntries(
  ['failing', 'stale', 'lagging', 'starting', 'healthy', 'paused', 'not deployed'].map((s, i) => [s, i]),
);

const COLUMNS: { key: string; label: string; value: (t: Topic) => number | string; numeric?: boolean }[] = [
  { key: 'name', label: 'Topic', value: (t) => t.name },
  { key: 'status', label: 'Status', value: (t) => STATUS_ORDER[t.status] ?? 9 },
  { key: 'lagEvents', label: 'Lag (events)', value: (t) => t.lagEvents, numeric: true },
  { key: 'lagSeconds', label: 'Lag (s)', value: (t) => t.lagSeconds, numeric: true },
  { key: 'eventsPerSecond', label: 'Events/s', value: (t) => t.eventsPerSecond, numeric: true },
  { key: 'megabytesPerSecond', label: 'MB/s', value: (t) => t.megabytesPerSecond, numeric: true },
  { key: 'lastCheckpointAt', label: 'Last checkpoint', value: (t) => t.lastCheckpointAt ?? '' },
  { key: 'filesPerHour', label: 'Files/h', value: (t) => t.filesPerHour, numeric: true },
  { key: 'agents', label: 'Agents $/mo', value: (t) => t.agentsMonthly, numeric: true },
];

export function FleetTable({ initial, isAdmin }: { initial: Fleet; isAdmin: boolean }) {
  const trpc = useTRPC();
  const { data = initial } = useQuery(
    trpc.topic.list.queryOptions(undefined, { initialData: initial, refetchInterval: 5_000 }),
  );
  const [query, setQuery] = useState('');
  const [status, setStatus] = useState('');
  const [sort, setSort] = useState<{ key: string; desc: boolean }>({ key: 'status', desc: false });
  const [page, setPage] = useState(0);

  const rows = useMemo(() => {
    const column = COLUMNS.find((c) => c.key === sort.key) ?? COLUMNS[0]!;
    return data.topics
      .filter((t) => (!query || t.name.includes(query.toLowerCase())) && (!status || t.status === status))
      .sort((a, b) => {
        const x = column.value(a);
        const y = column.value(b);
        const order =
          typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        return (sort.desc ? -order : order) || a.name.localeCompare(b.name);
      });
  }, [data, query, status, sort]);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  const current = Math.min(page, pages - 1);
  const shown = rows.slice(current * PAGE_SIZE, (current + 1) * PAGE_SIZE);

  const { totals } = data;
  return (
    <div className="space-y-6">
      <div className="grid grid-cols-2 gap-3 md:grid-cols-5">
        <Stat label="Topics" value={totals.topics} />
        <Stat label="Events/s" value={formatNumber(totals.eventsPerSecond)} />
        <Stat label="MB/s" value={formatNumber(totals.megabytesPerSecond, 2)} />
        <Stat
          label="Event Hubs Capture"
          value={formatMoney(totals.captureMonthly)}
          hint="estimated per month, deployed topics"
        />
        <Stat
          label="Hubcap agents"
          value={formatMoney(totals.agentsMonthly)}
          hint={`saves ${formatMoney(totals.savingMonthly)} per month`}
        />
      </div>
      <div className="flex flex-wrap gap-3">
        <input
          aria-label="Filter topics"
          placeholder="Filter by name"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setPage(0);
          }}
          className="rounded border border-slate-300 px-3 py-1.5 text-sm"
        />
        <select
          aria-label="Filter by status"
          value={status}
          onChange={(e) => {
            setStatus(e.target.value);
            setPage(0);
          }}
          className="rounded border border-slate-300 px-2 py-1.5 text-sm"
        >
          <option value="">All statuses</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <span className="self-center text-sm text-slate-500">
          {rows.length} of {data.topics.length} topics
        </span>
      </div>
      {data.topics.length === 0 ? (
        <p className="text-slate-500">No topics yet.</p>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
          <table className="w-full text-sm" data-testid="fleet-table">
            <thead>
              <tr className="border-b border-slate-200 text-left text-slate-500">
                {COLUMNS.map((c) => (
                  <th key={c.key} className={`p-3 font-medium ${c.numeric ? 'text-right' : ''}`}>
                    <button
                      type="button"
                      onClick={() =>
                        setSort((s) => ({ key: c.key, desc: s.key === c.key ? !s.desc : !!c.numeric }))
                      }
                      className="hover:text-slate-900"
                    >
                      {c.label}
                      {sort.key === c.key ? (sort.desc ? ' ↓' : ' ↑') : ''}
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {shown.map((t) => (
                <tr key={t.id} className="border-b border-slate-100 hover:bg-slate-50" data-topic={t.name}>
                  <td className="p-3 font-medium">
                    <Link href={`/topics/${t.name}` as Route} className="hover:underline">
                      {t.name}
                    </Link>
                  </td>
                  <td className="p-3" title={t.statusReason || undefined}>
                    <Badge tone={t.status} />
                    {t.openAlerts > 0 && (
                      <span className="ml-1">
                        <Badge tone="open">
                          {t.openAlerts} alert{t.openAlerts > 1 ? 's' : ''}
                        </Badge>
                      </span>
                    )}
                    {t.schemaChanges > 0 && (
                      <span className="ml-1" title="Schema changes nobody acknowledged yet">
                        <Badge tone="warn">schema changed</Badge>
                      </span>
                    )}
                    {t.deadLetteredLastHour > 0 && (
                      <span
                        className="ml-1"
                        title={`${t.deadLettered} dead letters in total, ${t.deadLetteredLastHour} in the last hour`}
                      >
                        <Badge tone="warn">{formatNumber(t.deadLetteredLastHour)} dead letters/h</Badge>
                      </span>
                    )}
                  </td>
                  <td className="p-3 text-right tabular-nums">{formatNumber(t.lagEvents)}</td>
                  <td className="p-3 text-right tabular-nums">{formatSeconds(t.lagSeconds)}</td>
                  <td className="p-3 text-right tabular-nums">{formatNumber(t.eventsPerSecond, 1)}</td>
                  <td className="p-3 text-right tabular-nums">{formatNumber(t.megabytesPerSecond, 2)}</td>
                  <td className="p-3" title={t.lastCheckpointAt ?? ''}>
                    <Ago iso={t.lastCheckpointAt} />
                  </td>
                  <td className="p-3 text-right tabular-nums">{formatNumber(t.filesPerHour)}</td>
                  <td className="p-3 text-right tabular-nums">{formatMoney(t.agentsMonthly)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {pages > 1 && (
            <div className="flex items-center justify-end gap-3 border-t border-slate-200 px-3 py-2 text-sm">
              <button
                type="button"
                disabled={current === 0}
                onClick={() => setPage(current - 1)}
                className="underline disabled:opacity-40"
              >
                Previous
              </button>
              <span className="text-slate-500">
                page {current + 1} of {pages}
              </span>
              <button
                type="button"
                disabled={current >= pages - 1}
                onClick={() => setPage(current + 1)}
                className="underline disabled:opacity-40"
              >
                Next
              </button>
            </div>
          )}
        </div>
      )}
      <NamespaceCosts cost={data.cost} isAdmin={isAdmin} />
    </div>
  );
}
