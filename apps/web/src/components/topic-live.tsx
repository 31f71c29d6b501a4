'use client';

import type { AppRouter } from '@hubcap/api';
import type { inferRouterOutputs } from '@trpc/server';
import { useSubscription } from '@trpc/tanstack-react-query';
import type { Route } from 'next';
import Link from 'next/link';
import { useState } from 'react';
import { useTRPC } from '@/trpc/client.tsx';
import { Ago } from './ago.tsx';
import { CompletenessGrid } from './completeness-grid.tsx';
import { DeleteTopic } from './delete-topic.tsx';
import { DeployPanel } from './deploy-panel.tsx';
import { formatBytes, formatMoney, formatNumber, formatSeconds, formatTime } from './format.ts';
import { LagHint, NamespaceCostHint, StatusReason } from './health.tsx';
import { LineChart } from './line-chart.tsx';
import { Replays } from './replays.tsx';
import { SizingAdvice } from './sizing-advice.tsx';
import { ConfigChanges } from './topic-form/results.tsx';
import { DeadLetters, SchemaHistory, SchemaNotice } from './topic-schema.tsx';
import { Badge, Card, Stat, TableHead } from './ui.tsx';

type Outputs = inferRouterOutputs<AppRouter>['topic'];
type Detail = Outputs['get'];
type Range = Detail['range'];
const RANGES: Range[] = ['1h', '6h', '24h', '7d', '30d'];

/** The charts of a topic: what each plots from the series and how its numbers read. */
const CHARTS: {
  testId: string;
  label: string;
  pick: (p: Detail['series'][number]) => number;
  format: (v: number) => string;
  color: string;
}[] = [
  {
    testId: 'chart-lag',
    label: 'Lag (events)',
    pick: (p) => p.lagEvents,
    format: (v) => formatNumber(v),
    color: '#b45309',
  },
  {
    testId: 'chart-lag-seconds',
    label: 'Lag (seconds)',
    pick: (p) => p.lagSeconds,
    format: formatSeconds,
    color: '#c2410c',
  },
  {
    testId: 'chart-events',
    label: 'Events/s',
    pick: (p) => p.eventsPerSecond,
    format: (v) => formatNumber(v, 1),
    color: '#0f766e',
  },
  {
    testId: 'chart-bytes',
    label: 'Throughput',
    pick: (p) => p.bytesPerSecond,
    format: (v) => `${formatBytes(v)}/s`,
    color: '#1d4ed8',
  },
];

export function TopicLive({
  initial,
  versions,
  canEdit,
}: {
  initial: Detail;
  versions: Outputs['listVersions'];
  canEdit: boolean;
}) {
  const trpc = useTRPC();
  const [range, setRange] = useState<Range>(initial.range);
  const [detail, setDetail] = useState<Detail>(initial);
  const [updates, setUpdates] = useState(0);
  const [schemaView, setSchemaView] = useState<Parameters<typeof SchemaHistory>[0]['view']>(null);
  const live = useSubscription(
    trpc.topic.watch.subscriptionOptions(
      { name: initial.name, range },
      {
        onData: (data) => {
          setDetail(data);
          setUpdates((n) => n + 1);
        },
      },
    ),
  );
  const d = detail;
  const series = (pick: (p: Detail['series'][number]) => number) =>
    d.series.map((p) => ({ t: p.t, v: pick(p) }));

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center justify-between gap-4">
        <div className="flex items-center gap-3">
          <h1 className="text-2xl font-semibold">{d.name}</h1>
          <Badge tone={d.status} />
          <span className="text-sm text-slate-500">config v{d.configVersion}</span>
          <span
            className="text-xs text-slate-400"
            data-testid="live-state"
            data-updates={updates}
            title="Updates arrive over a server-sent events subscription"
          >
            {live.status === 'pending'
              ? '● live'
              : live.status === 'error'
                ? '○ reconnecting'
                : '○ connecting'}
          </span>
        </div>
        <Link href={`/topics/${d.name}/cutover` as Route} className="text-sm underline">
          Cut over from Capture
        </Link>
        {canEdit && (
          <div className="flex flex-wrap gap-2" data-testid="edit-controls">
            <Link
              href={`/topics/${d.name}/edit` as Route}
              className="rounded bg-slate-900 px-3 py-1.5 text-sm font-medium text-white"
            >
              Edit configuration
            </Link>
            <DeleteTopic topic={d.name} />
          </div>
        )}
      </div>

      <StatusReason status={d.status} reason={d.statusReason} />

      {d.schema.notice && (
        <SchemaNotice
          topic={d.name}
          notice={d.schema.notice}
          canEdit={canEdit}
          onShow={(from, to) => {
            setSchemaView({ kind: 'diff', from, to });
            document.getElementById('schema')?.scrollIntoView({ behavior: 'smooth' });
          }}
        />
      )}

      <div className="grid grid-cols-2 gap-3 md:grid-cols-7">
        <Stat
          label="Lag"
          value={formatNumber(d.lagEvents)}
          hint={
            <LagHint
              lagEvents={d.lagEvents}
              lagSeconds={d.lagSeconds}
              trend={d.lagTrend}
              writing={!['paused', 'stale', 'not deployed'].includes(d.status)}
              maxFileAgeSeconds={d.maxFileAgeSeconds}
            />
          }
        />
        <Stat label="Events/s" value={formatNumber(d.eventsPerSecond, 1)} />
        <Stat label="MB/s" value={formatNumber(d.megabytesPerSecond, 2)} />
        <Stat
          label="Last checkpoint"
          value={<Ago iso={d.lastCheckpointAt} />}
          hint={formatTime(d.lastCheckpointAt)}
        />
        <Stat label="Files/hour" value={formatNumber(d.filesPerHour)} />
        <Stat
          label="Dead letters"
          value={formatNumber(d.deadLetters.total)}
          hint={`${formatNumber(d.deadLetters.lastHour)} in the last hour`}
        />
        <Stat
          label="Cost / month"
          value={formatMoney(d.agentsMonthly)}
          hint={<NamespaceCostHint cost={d.namespaceCost} />}
        />
      </div>

      <Card
        title="Lag and throughput"
        actions={
          <div className="flex gap-1">
            {RANGES.map((r) => (
              <button
                key={r}
                type="button"
                onClick={() => setRange(r)}
                className={`rounded px-2 py-0.5 text-xs ${r === range ? 'bg-slate-900 text-white' : 'bg-slate-100'}`}
              >
                {r}
              </button>
            ))}
          </div>
        }
      >
        <div className="grid gap-6 md:grid-cols-2">
          {CHARTS.map(({ pick, ...chart }) => (
            <LineChart key={chart.testId} {...chart} points={series(pick)} />
          ))}
        </div>
      </Card>

      <Card title={`Partitions (${d.partitions.length})`}>
        {d.partitions.length === 0 ? (
          <p className="text-sm text-slate-500">No agent has reported yet.</p>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-sm" data-testid="partitions">
              <TableHead
                columns={[
                  'Partition',
                  { numeric: 'Last enqueued' },
                  { numeric: 'Received' },
                  { numeric: 'Checkpointed' },
                  { numeric: 'Lag (events)' },
                  { numeric: 'Lag (s)' },
                  { numeric: 'Events/s' },
                  'Checkpoint time',
                ]}
                cell="px-2 py-1.5"
              />
              <tbody>
                {d.partitions.map((p) => (
                  <tr
                    key={p.partitionId}
                    className="border-t border-slate-100"
                    data-partition={p.partitionId}
                  >
                    <td className="px-2 py-1.5">{p.partitionId}</td>
                    <td className="px-2 py-1.5 text-right tabular-nums">
                      {p.lastEnqueuedSequenceNumber ?? '—'}
                    </td>
                    <td className="px-2 py-1.5 text-right tabular-nums">
                      {p.lastReceivedSequenceNumber ?? '—'}
                    </td>
                    <td className="px-2 py-1.5 text-right tabular-nums">
                      {p.lastCheckpointSequenceNumber ?? '—'}
                    </td>
                    <td className="px-2 py-1.5 text-right tabular-nums" data-testid="partition-lag">
                      {formatNumber(p.lagEvents)}
                    </td>
                    <td className="px-2 py-1.5 text-right tabular-nums">{formatSeconds(p.lagSeconds)}</td>
                    <td className="px-2 py-1.5 text-right tabular-nums">
                      {formatNumber(p.eventsPerSecond, 1)}
                    </td>
                    <td className="px-2 py-1.5">{formatTime(p.lastCheckpointAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>

      <CompletenessGrid topic={d.name} />
      <Replays topic={d.name} canEdit={canEdit} />

      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Deployment">
          <DeployPanel topic={d.name} canEdit={canEdit} />
          {d.sizing && (
            <>
              <h3 className="mt-4 text-sm font-semibold">CPU and memory</h3>
              <SizingAdvice
                advice={d.sizing.advice}
                measurement={d.sizing.measurement}
                scaling={d.sizing.scaling}
              />
            </>
          )}
          <h3 className="mt-4 text-sm font-semibold">Replicas</h3>
          <ul className="mt-1 text-sm" data-testid="replica-versions">
            {d.replicas.length === 0 && <li className="text-slate-500">none reporting</li>}
            {d.replicas.map((r) => (
              <li key={r.replicaId}>
                {r.replicaId}{' '}
                <span className="text-slate-500">
                  · runs config {r.configVersion === null ? 'from a file' : `v${r.configVersion}`}
                  {r.configVersion !== null && r.configVersion < d.configVersion
                    ? ` (v${d.configVersion} is the newest)`
                    : ''}{' '}
                  · last report <Ago iso={r.lastSeenAt} />
                </span>
                {r.configIssue && r.configIssue.version > (r.configVersion ?? 0) && (
                  <span
                    className={`block text-xs ${r.configIssue.kind === 'rejected' ? 'text-red-700' : 'text-amber-700'}`}
                  >
                    v{r.configIssue.version}{' '}
                    {r.configIssue.kind === 'rejected' ? 'refused' : 'applies when this replica restarts'}:{' '}
                    {r.configIssue.reason}
                  </span>
                )}
              </li>
            ))}
          </ul>
          <h3 className="mt-4 text-sm font-semibold">Agent tokens</h3>
          <ul className="mt-1 text-sm">
            {d.agents.length === 0 && <li className="text-slate-500">none</li>}
            {d.agents.map((a) => (
              <li key={a.id}>
                {a.name}{' '}
                <span className="text-slate-500">
                  · last report <Ago iso={a.lastSeenAt} />
                  {a.agentVersion ? ` · v${a.agentVersion}` : ''}
                </span>
              </li>
            ))}
          </ul>
        </Card>

        <Card title="Alerts">
          {d.alerts.length === 0 ? (
            <p className="text-sm text-slate-500">No alerts.</p>
          ) : (
            <ul className="space-y-1 text-sm">
              {d.alerts.map((a) => (
                <li key={a.id} className="flex gap-2">
                  <Badge tone={a.resolvedAt ? 'resolved' : 'open'}>{a.kind}</Badge>
                  <span>{a.message}</span>
                  <span className="ml-auto text-slate-500">
                    <Ago iso={a.openedAt} />
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Card>

        <DeadLetters deadLetters={d.deadLetters} />

        <Card title="Recent files">
          {d.recentFiles.length === 0 ? (
            <p className="text-sm text-slate-500">No files reported yet.</p>
          ) : (
            <table className="w-full text-xs" data-testid="recent-files">
              <tbody>
                {d.recentFiles.map((file) => (
                  <tr key={file.id} className="border-t border-slate-100">
                    <td className="py-1 font-mono break-all">{file.path}</td>
                    <td className="py-1 text-right tabular-nums">{formatNumber(file.events)} ev</td>
                    <td className="py-1 text-right tabular-nums">{formatBytes(file.bytes)}</td>
                    <td className="py-1 text-right text-slate-500">
                      <Ago iso={file.committedAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>

        <Card title="Recent errors">
          {d.recentErrors.length === 0 ? (
            <p className="text-sm text-slate-500">No errors reported.</p>
          ) : (
            <ul className="space-y-1 text-xs" data-testid="recent-errors">
              {d.recentErrors.map((e) => (
                <li key={e.id}>
                  <Badge tone={e.retryable ? 'warn' : 'fail'}>{e.kind}</Badge> {e.message}
                  {e.partitionId ? ` (partition ${e.partitionId})` : ''}{' '}
                  <span className="text-slate-500">
                    <Ago iso={e.at} />
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>

      <div id="schema">
        <SchemaHistory topic={d.name} schema={d.schema} view={schemaView} setView={setSchemaView} />
      </div>

      <Card title="Configuration history">
        <ol className="space-y-3 text-sm" data-testid="config-history">
          {versions.map((v) => (
            <li key={v.version}>
              <div>
                <span className="font-medium">v{v.version}</span>{' '}
                <span className="text-slate-500">
                  {formatTime(v.createdAt)} by {v.createdBy ?? 'system'}
                </span>
              </div>
              {v.version === 1 ? (
                <p className="text-xs text-slate-500">created</p>
              ) : (
                <ConfigChanges changes={v.changes} secretsChanged={v.secretsChanged} />
              )}
            </li>
          ))}
        </ol>
      </Card>
    </div>
  );
}
