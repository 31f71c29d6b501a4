'use client';

import type { AppRouter } from '@hubcap/api';
import { useQuery } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import { useTRPC } from '@/trpc/client.tsx';
import { formatNumber, formatSeconds } from './format.ts';
import { Card } from './ui.tsx';

type Grid = inferRouterOutputs<AppRouter>['completeness']['grid'];
type State = Grid['windows'][number]['cells'][number]['state'];

const STATES: Record<State, { label: string; className: string; mark: string }> = {
  complete: { label: 'complete', className: 'bg-emerald-500 text-white', mark: '✓' },
  open: { label: 'open', className: 'border border-slate-300 bg-white text-slate-500', mark: '·' },
  empty: { label: 'no data yet', className: 'bg-slate-100 text-slate-400', mark: '' },
  gap: { label: 'gap', className: 'bg-red-600 text-white', mark: '!' },
  'lost-at-source': { label: 'lost at source', className: 'bg-amber-400 text-amber-950', mark: '−' },
};

const REFRESH_MS = 60_000;

/** "11-27 14:00" for an hourly window, the date for longer ones. */
function windowLabel(start: string, kind: Grid['window']): string {
  return kind === 'hour' ? `${start.slice(5, 10)} ${start.slice(11, 16)}` : start.slice(0, 10);
}

/**
 * Windows × partitions of the last day, from the manifests in the lake: which windows are complete
 * (a job may run), still open, or have a gap or a range lost at source; and how long after its end
 * each window was complete.
 */
export function CompletenessGrid({ topic }: { topic: string }) {
  const trpc = useTRPC();
  const grid = useQuery({
    ...trpc.completeness.grid.queryOptions({ name: topic, days: 1 }),
    refetchInterval: REFRESH_MS,
  });
  return (
    <Card title="Completeness (last 24 h)">
      {grid.error && <p className="text-sm text-red-700">{grid.error.message}</p>}
      {!grid.data && !grid.error && <p className="text-sm text-slate-500">Loading…</p>}
      {grid.data && <GridTable grid={grid.data} />}
    </Card>
  );
}

function GridTable({ grid }: { grid: Grid }) {
  if (grid.window === null)
    return (
      <p className="text-sm text-slate-500">
        The path template has no time variable: the topic has no windows to seal.
      </p>
    );
  if (grid.partitions.length === 0)
    return <p className="text-sm text-slate-500">No partition has been read yet.</p>;
  return (
    <>
      <ul className="mb-3 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-600" aria-label="Legend">
        {Object.entries(STATES).map(([state, s]) => (
          <li key={state} className="flex items-center gap-1">
            <span
              aria-hidden
              className={`inline-flex size-4 items-center justify-center rounded ${s.className}`}
            >
              {s.mark}
            </span>
            {s.label}
          </li>
        ))}
      </ul>
      <div className="max-h-96 overflow-auto">
        <table className="text-xs" data-testid="completeness-grid">
          <caption className="sr-only">Completeness per {grid.window} and partition, newest first</caption>
          <thead className="sticky top-0 bg-white">
            <tr className="text-left text-slate-500">
              <th scope="col" className="px-1.5 py-1 font-medium">
                Window (UTC)
              </th>
              {grid.partitions.map((p) => (
                <th key={p} scope="col" className="px-0.5 py-1 text-center font-medium">
                  <span className="sr-only">partition </span>
                  {p}
                </th>
              ))}
              <th scope="col" className="px-1.5 py-1 font-medium">
                Complete after end
              </th>
            </tr>
          </thead>
          <tbody>
            {grid.windows.map((w) => (
              <tr key={w.start} className="border-t border-slate-100" data-window={w.start}>
                <th scope="row" className="px-1.5 py-1 font-normal whitespace-nowrap tabular-nums">
                  {windowLabel(w.start, grid.window)}
                </th>
                {w.cells.map((c) => {
                  const s = STATES[c.state];
                  const detail = `partition ${c.partition}: ${s.label}, ${formatNumber(c.events)} events${c.lost ? `, ${formatNumber(c.lost)} lost at source` : ''}`;
                  return (
                    <td key={c.partition} className="px-0.5 py-0.5 text-center" data-state={c.state}>
                      <span
                        title={detail}
                        className={`inline-flex size-6 items-center justify-center rounded ${s.className}`}
                      >
                        <span aria-hidden>{s.mark}</span>
                        <span className="sr-only">{detail}</span>
                      </span>
                    </td>
                  );
                })}
                <td className="px-1.5 py-1 whitespace-nowrap tabular-nums" data-testid="freshness">
                  {w.freshnessSeconds === null ? '—' : formatSeconds(w.freshnessSeconds)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
