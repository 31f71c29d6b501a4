'use client';

import type { AppRouter } from '@hubcap/api';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import { useState } from 'react';
import { useTRPC } from '@/trpc/client.tsx';
import { Ago } from './ago.tsx';
import { formatNumber, formatTime } from './format.ts';
import { Badge, Button, Card, TableHead } from './ui.tsx';

type Detail = inferRouterOutputs<AppRouter>['topic']['get'];
type Schema = Detail['schema'];
type Notice = NonNullable<Schema['notice']>;

/** "since 14:02" today, "since 2026-11-24 14:02 UTC" otherwise. */
function since(iso: string): string {
  const t = formatTime(iso);
  return t.slice(0, 10) === new Date().toISOString().slice(0, 10) ? `${t.slice(11, 16)} UTC` : t.slice(0, 16);
}

/** The schema-change notice at the top of the topic page; editors acknowledge it for everyone. */
export function SchemaNotice({
  topic,
  notice,
  canEdit,
  onShow,
}: {
  topic: string;
  notice: Notice;
  canEdit: boolean;
  onShow: (from: number, to: number) => void;
}) {
  const trpc = useTRPC();
  const acknowledge = useMutation(trpc.schema.acknowledgeChange.mutationOptions());
  return (
    <div
      role="status"
      data-testid="schema-notice"
      className="flex flex-wrap items-center gap-3 rounded-lg border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900"
    >
      <span>
        <strong>
          Schema v{notice.version} since {since(notice.firstSeenAt)}
        </strong>
        : {notice.text.replace(/^Schema v\d+: /, '')}
        {notice.versions > 1 ? ` (${notice.versions} versions since v${notice.sinceVersion})` : ''}
      </span>
      <Button variant="secondary" onClick={() => onShow(notice.sinceVersion, notice.version)}>
        Show changes
      </Button>
      {canEdit && (
        <Button
          variant="secondary"
          disabled={acknowledge.isPending}
          onClick={() => acknowledge.mutate({ name: topic, version: notice.version })}
        >
          Acknowledge
        </Button>
      )}
      {acknowledge.error && <span className="text-red-700">{acknowledge.error.message}</span>}
    </div>
  );
}

function SchemaDiffView({ topic, from, to }: { topic: string; from: number; to: number }) {
  const trpc = useTRPC();
  const diff = useQuery(trpc.schema.compareVersions.queryOptions({ name: topic, from, to }));
  if (diff.error) return <p className="text-sm text-red-700">{diff.error.message}</p>;
  if (!diff.data) return <p className="text-sm text-slate-500">Loading…</p>;
  const d = diff.data;
  return (
    <div className="space-y-1 text-sm" data-testid="schema-diff">
      <p className="font-medium">
        v{d.from} → v{d.to}: {d.text}
      </p>
      <ul className="font-mono text-xs">
        {d.added.map((f) => (
          <li key={`+${f.path}`} className="text-emerald-800">
            + {f.path} {f.type}
          </li>
        ))}
        {d.changed.map((c) => (
          <li key={`~${c.path}`} className={c.kind === 'widened' ? 'text-blue-800' : 'text-amber-800'}>
            ~ {c.path} {c.from} → {c.to} ({c.kind}
            {c.absorbed.length > 0 ? `; ${c.absorbed.length} nested fields now inside it` : ''})
          </li>
        ))}
        {d.removed.map((f) => (
          <li key={`-${f.path}`} className="text-slate-500">
            − {f.path} {f.type} (no longer written)
          </li>
        ))}
      </ul>
    </div>
  );
}

function SchemaFields({ topic, version }: { topic: string; version: number }) {
  const trpc = useTRPC();
  const v = useQuery(trpc.schema.getVersion.queryOptions({ name: topic, version }));
  if (v.error) return <p className="text-sm text-red-700">{v.error.message}</p>;
  if (!v.data) return <p className="text-sm text-slate-500">Loading…</p>;
  return (
    <div data-testid="schema-fields">
      <p className="text-sm font-medium">
        v{v.data.version} · {v.data.fields.length} fields · fingerprint{' '}
        <span className="font-mono text-xs">{v.data.fingerprint}</span>
      </p>
      <table className="mt-1 text-xs">
        <tbody>
          {v.data.fields.map((f) => (
            <tr key={f.path}>
              <td className="pr-4 font-mono">{f.path}</td>
              <td className="font-mono text-slate-600">{f.type}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

type View = { kind: 'fields'; version: number } | { kind: 'diff'; from: number; to: number } | null;

/** Schema versions (newest first), a version's fields, and the diff between any two versions. */
export function SchemaHistory({
  topic,
  schema,
  view,
  setView,
}: {
  topic: string;
  schema: Schema;
  view: View;
  setView: (view: View) => void;
}) {
  const numbers = schema.versions.map((v) => v.version);
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | null>(null);
  const pickedFrom = from ?? numbers[1] ?? numbers[0];
  const pickedTo = to ?? numbers[0];
  return (
    <Card title={`Schema (${schema.total} ${schema.total === 1 ? 'version' : 'versions'})`}>
      {schema.versions.length === 0 ? (
        <p className="text-sm text-slate-500">
          No schema reported yet (Parquet topics report each schema version they start writing).
        </p>
      ) : (
        <div className="space-y-4">
          <div className="overflow-x-auto">
            <table className="w-full text-sm" data-testid="schema-history">
              <TableHead
                columns={['Version', 'First seen', { numeric: 'Fields' }, 'Change', 'First file', '']}
                cell="px-2 py-1.5"
              />
              <tbody>
                {schema.versions.map((v) => (
                  <tr key={v.version} className="border-t border-slate-100" data-version={v.version}>
                    <td className="px-2 py-1.5 font-medium">
                      v{v.version} {!v.acknowledged && <Badge tone="warn">new</Badge>}
                    </td>
                    <td className="px-2 py-1.5" title={formatTime(v.firstSeenAt)}>
                      {formatTime(v.firstSeenAt)}
                    </td>
                    <td className="px-2 py-1.5 text-right tabular-nums">{formatNumber(v.fieldCount)}</td>
                    <td className="px-2 py-1.5">{v.changeText}</td>
                    <td className="px-2 py-1.5 font-mono text-xs break-all">
                      {v.path} <span className="text-slate-500">(partition {v.partitionId})</span>
                    </td>
                    <td className="px-2 py-1.5 whitespace-nowrap">
                      <button
                        type="button"
                        className="text-xs text-blue-700 underline"
                        onClick={() => setView({ kind: 'fields', version: v.version })}
                      >
                        fields
                      </button>
                      {v.version > 1 && (
                        <button
                          type="button"
                          className="ml-2 text-xs text-blue-700 underline"
                          onClick={() => setView({ kind: 'diff', from: v.version - 1, to: v.version })}
                        >
                          diff v{v.version - 1}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {schema.total > schema.versions.length && (
              <p className="mt-1 text-xs text-slate-500">
                The newest {schema.versions.length} are listed; pick older ones by number below.
              </p>
            )}
          </div>
          {schema.total > 1 && (
            <form
              className="flex flex-wrap items-end gap-2 text-sm"
              onSubmit={(e) => {
                e.preventDefault();
                if (pickedFrom && pickedTo) setView({ kind: 'diff', from: pickedFrom, to: pickedTo });
              }}
            >
              <VersionInput label="From" value={pickedFrom} max={schema.total} onChange={setFrom} />
              <VersionInput label="To" value={pickedTo} max={schema.total} onChange={setTo} />
              <button type="submit" className="rounded border border-slate-300 px-3 py-1 text-sm">
                Compare
              </button>
            </form>
          )}
          {view?.kind === 'fields' && <SchemaFields topic={topic} version={view.version} />}
          {view?.kind === 'diff' && <SchemaDiffView topic={topic} from={view.from} to={view.to} />}
        </div>
      )}
    </Card>
  );
}

/** Events that could not be written in the topic's format, kept under `_deadletter/`. */
export function DeadLetters({ deadLetters }: { deadLetters: Detail['deadLetters'] }) {
  return (
    <Card title="Dead letters">
      <div className="space-y-2 text-sm" data-testid="dead-letters">
        <p>
          <span className="text-xl font-semibold tabular-nums" data-testid="dead-letter-total">
            {formatNumber(deadLetters.total)}
          </span>{' '}
          in total · {formatNumber(deadLetters.lastHour)} in the last hour
        </p>
        {deadLetters.byReason.length > 0 && (
          <ul className="text-xs">
            {deadLetters.byReason.map((r) => (
              <li key={r.reason}>
                <span className="font-mono">{r.reason}</span>: {formatNumber(r.count)}{' '}
                <span className="text-slate-500">
                  (last <Ago iso={r.lastAt} />)
                </span>
              </li>
            ))}
          </ul>
        )}
        {deadLetters.location && (
          <p className="text-xs text-slate-500">
            Raw bytes, partition, sequence number and reason are kept in{' '}
            <span className="font-mono break-all text-slate-700">{deadLetters.location}</span>
          </p>
        )}
      </div>
    </Card>
  );
}

function VersionInput(props: {
  label: 'From' | 'To';
  value: number | undefined | null;
  max: number;
  onChange(version: number): void;
}) {
  return (
    <label className="flex flex-col">
      <span className="text-xs text-slate-500">{props.label}</span>
      <input
        type="number"
        min={1}
        max={props.max}
        aria-label={`Compare ${props.label.toLowerCase()} version`}
        value={props.value ?? ''}
        onChange={(e) => props.onChange(Number(e.target.value))}
        className="w-20 rounded border border-slate-300 px-2 py-1"
      />
    </label>
  );
}
