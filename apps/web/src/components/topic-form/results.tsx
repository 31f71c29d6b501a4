'use client';

import type { AppRouter } from '@hubcap/api';
import type { inferRouterOutputs } from '@trpc/server';
import { Badge, Card, TableHead } from '../ui.tsx';

type Outputs = inferRouterOutputs<AppRouter>['topic'];
export type TestResult = Outputs['testConnection'];
export type PreviewResult = Outputs['preview'];

export function ConfigChanges({
  changes,
  secretsChanged,
}: {
  changes: { path: string; before?: unknown; after?: unknown }[];
  secretsChanged: string[];
}) {
  const show = (v: unknown) =>
    v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v);
  return (
    <ul className="mt-1 space-y-0.5 font-mono text-xs" data-testid="config-diff">
      {changes.map((c) => (
        <li key={c.path}>
          <span className="text-slate-600">{c.path}</span>:{' '}
          <span className="text-red-700 line-through">{show(c.before)}</span> →{' '}
          <span className="text-emerald-700">{show(c.after)}</span>
        </li>
      ))}
      {secretsChanged.map((s) => (
        <li key={s}>
          <span className="text-slate-600">{s}</span>: secret replaced
        </li>
      ))}
    </ul>
  );
}

export function TestResults({ result }: { result: TestResult }) {
  return (
    <Card
      title={
        <>Test connection {result.ok ? <Badge tone="ok">passed</Badge> : <Badge tone="fail">failed</Badge>}</>
      }
    >
      <ul className="space-y-2 text-sm" data-testid="test-results">
        {result.checks.map((c) => (
          <li key={c.name} className="flex gap-3">
            <Badge tone={c.state} />
            <span className="font-medium">{c.name}</span>
            <span className="text-slate-600">{c.detail}</span>
          </li>
        ))}
      </ul>
      {result.partitions.length > 0 && (
        <table className="mt-4 w-full text-sm">
          <TableHead
            columns={[
              'Partition',
              { numeric: 'First sequence' },
              { numeric: 'Last sequence' },
              'Last enqueued',
            ]}
            cell="px-2 py-1"
          />
          <tbody>
            {result.partitions.map((p) => (
              <tr key={p.partitionId} className="border-t border-slate-100">
                <td className="px-2 py-1">{p.partitionId}</td>
                <td className="px-2 py-1 text-right tabular-nums">{p.beginningSequenceNumber}</td>
                <td className="px-2 py-1 text-right tabular-nums">
                  {p.isEmpty ? 'empty' : p.lastEnqueuedSequenceNumber}
                </td>
                <td className="px-2 py-1">{p.lastEnqueuedAt ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

export function PreviewResults({ result }: { result: PreviewResult }) {
  return (
    <Card title={`Preview: the latest ${result.events.length} events`}>
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="lg:col-span-1">
          <h3 className="mb-2 text-sm font-semibold">Inferred fields</h3>
          <table className="w-full text-xs" data-testid="inferred-fields">
            <tbody>
              {result.fields.map((field) => (
                <tr key={field.path} className="border-t border-slate-100">
                  <td className="px-2 py-1 font-mono">{field.path}</td>
                  <td className="px-2 py-1 text-slate-600">{field.types.join(' | ')}</td>
                  <td className="px-2 py-1 text-right text-slate-500">
                    {field.seen}/{result.events.length}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div className="space-y-3 lg:col-span-2" data-testid="preview-events">
          {result.events.map((e) => (
            <details
              key={`${e.partitionId}-${e.sequenceNumber}`}
              className="rounded border border-slate-200"
              open={false}
            >
              <summary className="cursor-pointer px-3 py-1.5 text-xs text-slate-600">
                partition {e.partitionId} · #{e.sequenceNumber} · {e.enqueuedAt}{' '}
                {e.isJson ? '' : '· not JSON'}
              </summary>
              <pre className="overflow-x-auto bg-slate-50 p-3 text-xs">{e.text}</pre>
            </details>
          ))}
        </div>
      </div>
    </Card>
  );
}
