'use client';

import {
  type Continuity,
  capturePathFormatProblems,
  DEFAULT_CAPTURE_PATH_FORMAT,
  rollbackGaps,
} from '@hubcap/shared';
import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useTRPC } from '@/trpc/client.tsx';
import { Badge, Button, Card, ErrorText } from './ui.tsx';

interface Location {
  topic: string;
  container: string;
  pathFormat: string;
}

interface Position {
  sequenceNumber: number;
  enqueuedTime: string | null;
  file: string;
}

/**
 * The cutover from Event Hubs Capture: where Capture writes, the plan (per partition Capture's last
 * event and Hubcap's first), starting the topic exactly after it, and the continuity report both ways.
 */
export function CaptureCutover({ topic, canEdit }: { topic: string; canEdit: boolean }) {
  const [container, setContainer] = useState('');
  const [pathFormat, setPathFormat] = useState(DEFAULT_CAPTURE_PATH_FORMAT);
  const [location, setLocation] = useState<Location | null>(null);
  const formatProblems = capturePathFormatProblems(pathFormat);
  const scan = (event: FormEvent) => {
    event.preventDefault();
    setLocation({ topic, container: container.trim(), pathFormat });
  };
  return (
    <div className="space-y-6">
      <Procedure />
      <Card title="Where Capture writes">
        <form
          className="grid gap-3 text-sm sm:grid-cols-[12rem_1fr]"
          onSubmit={scan}
          aria-label="Capture location"
        >
          <Field
            id="capture-container"
            label="Container"
            value={container}
            onChange={setContainer}
            hint="In this topic's storage account."
          />
          <Field
            id="capture-path-format"
            label="Archive name format"
            value={pathFormat}
            onChange={setPathFormat}
            problems={formatProblems}
            hint="As set on the event hub's Capture page (Capture adds .avro)."
            mono
          />
          <div className="sm:col-start-2">
            <Button type="submit" disabled={formatProblems.length > 0 || container.trim() === ''}>
              Scan Capture's files
            </Button>
          </div>
        </form>
      </Card>
      {location && <Plan key={JSON.stringify(location)} location={location} canEdit={canEdit} />}
      {location && (
        <Rollback key={`rollback-${JSON.stringify(location)}`} location={location} canEdit={canEdit} />
      )}
      {location && <Report key={`report-${JSON.stringify(location)}`} location={location} />}
    </div>
  );
}

/** One labelled text input of the location form, with its hint or its problems. */
function Field(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  hint: string;
  problems?: string[];
  mono?: boolean;
}) {
  const problems = props.problems ?? [];
  return (
    <>
      <label htmlFor={props.id} className="pt-1.5 text-slate-600">
        {props.label}
      </label>
      <div>
        <input
          id={props.id}
          className={`w-full rounded border border-slate-300 px-2 py-1 ${props.mono ? 'font-mono text-xs' : ''}`}
          value={props.value}
          onChange={(e) => props.onChange(e.target.value)}
          aria-invalid={problems.length > 0}
        />
        {problems.length > 0 ? (
          <p className="mt-1 text-xs text-red-700" role="alert">
            {problems.join('; ')}
          </p>
        ) : (
          <p className="mt-1 text-xs text-slate-500">{props.hint}</p>
        )}
      </div>
    </>
  );
}

function Procedure() {
  return (
    <Card title="How a cutover works">
      <ol className="list-decimal space-y-1 pl-5 text-sm text-slate-700">
        <li>
          <strong>Disable Capture on the event hub</strong> and wait one Capture time window, so its last file
          is written. Capture must stop first: an event captured after the scan would also be landed by
          Hubcap.
        </li>
        <li>
          Scan Capture's files here. The plan shows, per partition, Capture's last event and Hubcap's first.
        </li>
        <li>
          Start: Hubcap writes the topic's checkpoints at Capture's last events and deploys its agents, which
          land from Capture's last + 1. Starting scans again and refuses if Capture wrote anything since the
          plan.
        </li>
        <li>
          When the agents have written their first files, check continuity: per partition Capture's last + 1
          must be Hubcap's first. Anything else is shown as the exact range missing or landed twice.
        </li>
      </ol>
      <p className="mt-3 text-sm text-slate-600">
        Rolling back to Capture is continuous too: see <em>Rolling back to Capture</em> below, after scanning.
      </p>
    </Card>
  );
}

function PositionCell({ position }: { position: Position | null }) {
  if (!position) return <span className="text-slate-400">—</span>;
  return (
    <span className="tabular-nums" title={position.file}>
      {position.sequenceNumber}{' '}
      {position.enqueuedTime && <span className="ml-1 text-xs text-slate-500">{position.enqueuedTime}</span>}
    </span>
  );
}

function Plan({ location, canEdit }: { location: Location; canEdit: boolean }) {
  const trpc = useTRPC();
  const plan = useQuery(trpc.cutover.plan.queryOptions(location, { retry: false, staleTime: Infinity }));
  const start = useMutation(trpc.cutover.start.mutationOptions());
  if (plan.isPending) return <Card title="Plan">Reading Capture's files…</Card>;
  if (plan.isError)
    return (
      <Card title="Plan">
        <ErrorText message={plan.error.message} />
      </Card>
    );
  const { partitions, fileProblems, blockers, warnings } = plan.data;
  const ready = blockers.length === 0;
  const begin = () => {
    if (!window.confirm(`Start ${location.topic} after Capture's last events? Capture must be disabled.`))
      return;
    start.mutate({
      ...location,
      expected: partitions.map((p) => ({
        partitionId: p.partitionId,
        sequenceNumber: p.captureLast?.sequenceNumber ?? -1,
      })),
    });
  };
  return (
    <Card
      title="Plan"
      actions={
        <Button variant="secondary" onClick={() => plan.refetch()} disabled={plan.isFetching}>
          Scan again
        </Button>
      }
    >
      <table className="w-full text-sm" data-testid="cutover-plan">
        <thead className="text-left text-xs text-slate-500">
          <tr>
            <th className="py-1">Partition</th>
            <th>Capture's last event (sequence, time)</th>
            <th>Hubcap's first</th>
            <th>File</th>
          </tr>
        </thead>
        <tbody>
          {partitions.map((p) => (
            <tr key={p.partitionId} className="border-t border-slate-100 align-top">
              <td className="py-1">{p.partitionId}</td>
              <td>
                <PositionCell position={p.captureLast} />
                {p.problem && <div className="text-xs text-red-700">{p.problem}</div>}
              </td>
              <td className="tabular-nums">
                {p.hubcapFirst ?? (p.problem ? '—' : 'its first event (empty so far)')}
              </td>
              <td className="break-all font-mono text-xs text-slate-500">{p.captureLast?.file ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <PlanNotes fileProblems={fileProblems} warnings={warnings} blockers={blockers} />
      {canEdit && (
        <div className="mt-4 flex items-center gap-3">
          <Button onClick={begin} disabled={!ready || start.isPending || start.isSuccess}>
            Start Hubcap after Capture
          </Button>
          <ErrorText message={start.error?.message} />
          {start.isSuccess && (
            <p role="status" className="text-sm text-emerald-700">
              Checkpoints written at Capture's last events.{' '}
              {start.data.deployment
                ? `Deployment: ${start.data.deployment.phase} (${start.data.deployment.message})`
                : 'No deployer is configured on this server: deploy the topic yourself.'}
            </p>
          )}
        </div>
      )}
    </Card>
  );
}

/** What a plan says besides its table: unusable files, what cannot be avoided, why it cannot start. */
function PlanNotes(props: {
  fileProblems: { file: string; message: string }[];
  warnings: string[];
  blockers: string[];
  testId?: string;
}) {
  const testId = props.testId ?? 'cutover';
  return (
    <>
      {props.fileProblems.length > 0 && (
        <div className="mt-3 text-sm">
          <p className="font-medium text-red-700">Files that cannot be used</p>
          <ul className="list-disc pl-5 text-xs text-red-700" data-testid="file-problems">
            {props.fileProblems.map((f) => (
              <li key={f.file}>{f.message}</li>
            ))}
          </ul>
        </div>
      )}
      {props.warnings.length > 0 && (
        <ul className="mt-3 list-disc pl-5 text-sm text-amber-800" data-testid={`${testId}-warnings`}>
          {props.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      {props.blockers.length > 0 && (
        <ul className="mt-3 list-disc pl-5 text-sm text-amber-800" data-testid={`${testId}-blockers`}>
          {props.blockers.map((b) => (
            <li key={b}>{b}</li>
          ))}
        </ul>
      )}
    </>
  );
}

const RANGE = {
  gap: { tone: 'fail', by: 'neither' },
  overlap: { tone: 'warn', by: 'both' },
} as const;

function ContinuityBadge({ continuity: c }: { continuity: Continuity }) {
  if (c.state === 'continuous') return <Badge tone="ok">continuous</Badge>;
  if (c.state === 'unknown') return <Badge tone="not deployed">{c.reason}</Badge>;
  const { tone, by } = RANGE[c.state];
  return (
    <Badge tone={tone}>
      {c.state} {c.from}–{c.to} ({c.to - c.from + 1} events landed by {by})
    </Badge>
  );
}

/**
 * The rollback to Capture: per partition Hubcap's last landed event, Capture's first since it was
 * enabled again and the gap between them, which "Fill the gap" replays into the topic's own layout.
 */
function Rollback({ location, canEdit }: { location: Location; canEdit: boolean }) {
  const trpc = useTRPC();
  const [asked, setAsked] = useState(false);
  const plan = useQuery(
    trpc.cutover.rollbackPlan.queryOptions(location, { enabled: asked, retry: false, staleTime: Infinity }),
  );
  const fill = useMutation(trpc.cutover.fillGap.mutationOptions());
  const gaps = rollbackGaps(plan.data?.partitions ?? []);
  const fillGap = () => {
    const ranges = gaps.map((g) => `partition ${g.partitionId}: ${g.from}–${g.to}`).join(', ');
    if (!window.confirm(`Replay ${ranges} into ${location.topic}'s own layout?`)) return;
    fill.mutate({ ...location, expected: gaps });
  };
  return (
    <Card
      title="Rolling back to Capture"
      actions={
        <Button
          variant="secondary"
          onClick={() => (asked ? plan.refetch() : setAsked(true))}
          disabled={plan.isFetching}
        >
          {asked ? 'Scan again' : 'Plan the rollback'}
        </Button>
      }
    >
      <p className="text-sm text-slate-600">
        Capture can only start when it is enabled. Remove or pause this topic&apos;s deployment (the agents
        drain), enable Capture and wait for its first file on every partition: the events between
        Hubcap&apos;s last and Capture&apos;s first are the gap, and filling it replays exactly those.
      </p>
      <ErrorText message={plan.error?.message} className="mt-3" />
      {plan.data && (
        <>
          <ContinuityTable
            testId="rollback-plan"
            columns={["Hubcap's last", "Capture's first", 'Between them']}
            rows={plan.data.partitions}
          />
          <PlanNotes
            fileProblems={plan.data.fileProblems}
            warnings={plan.data.warnings}
            blockers={plan.data.blockers}
            testId="rollback"
          />
          {canEdit && (
            <div className="mt-4 flex items-center gap-3">
              <Button
                onClick={fillGap}
                disabled={plan.data.blockers.length > 0 || fill.isPending || fill.isSuccess}
              >
                Fill the gap
              </Button>
              <ErrorText message={fill.error?.message} />
              {fill.isSuccess && (
                <p role="status" className="text-sm text-emerald-700">
                  Replay {fill.data.replay.id} started into the topic&apos;s own layout: follow it under
                  Replays on the topic page. When it has succeeded, check continuity after a rollback.
                </p>
              )}
            </div>
          )}
        </>
      )}
    </Card>
  );
}

/** Per partition where one stream ended, where the next started, and how they meet (or why unknown). */
function ContinuityTable(props: {
  testId: string;
  columns: [string, string, string];
  rows: {
    partitionId: string;
    before: Position | null;
    after: Position | null;
    continuity: Continuity;
    problem?: string | null;
  }[];
}) {
  return (
    <table className="mt-3 w-full text-sm" data-testid={props.testId}>
      <thead className="text-left text-xs text-slate-500">
        <tr>
          <th className="py-1">Partition</th>
          {props.columns.map((c) => (
            <th key={c}>{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((p) => (
          <tr key={p.partitionId} className="border-t border-slate-100 align-top">
            <td className="py-1">{p.partitionId}</td>
            <td>
              <PositionCell position={p.before} />
            </td>
            <td>
              <PositionCell position={p.after} />
            </td>
            <td>
              {p.problem ? (
                <span className="text-xs text-red-700">{p.problem}</span>
              ) : (
                <ContinuityBadge continuity={p.continuity} />
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Report({ location }: { location: Location }) {
  const trpc = useTRPC();
  const [direction, setDirection] = useState<'toHubcap' | 'toCapture'>('toHubcap');
  const [asked, setAsked] = useState(false);
  const report = useQuery(
    trpc.cutover.report.queryOptions({ ...location, direction }, { enabled: asked, retry: false }),
  );
  const [from, to] = direction === 'toHubcap' ? ['Capture', 'Hubcap'] : ['Hubcap', 'Capture'];
  return (
    <Card title="Continuity report">
      <div className="flex flex-wrap items-center gap-3 text-sm">
        <label htmlFor="report-direction" className="text-slate-600">
          Handover
        </label>
        <select
          id="report-direction"
          className="rounded border border-slate-300 px-2 py-1"
          value={direction}
          onChange={(e) => setDirection(e.target.value as typeof direction)}
        >
          <option value="toHubcap">after the cutover (Capture → Hubcap)</option>
          <option value="toCapture">after a rollback (Hubcap → Capture)</option>
        </select>
        <Button
          variant="secondary"
          onClick={() => (asked ? report.refetch() : setAsked(true))}
          disabled={report.isFetching}
        >
          Check continuity
        </Button>
      </div>
      <ErrorText message={report.error?.message} className="mt-3" />
      {report.data && (
        <ContinuityTable
          testId="cutover-report"
          columns={[`${from}'s last`, `${to}'s first`, 'Result']}
          rows={report.data.partitions}
        />
      )}
    </Card>
  );
}
