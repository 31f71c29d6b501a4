'use client';

import type { AppRouter } from '@hubcap/api';
import { ReplayRequest, type ReplayRequestInput } from '@hubcap/shared';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import { useState } from 'react';
import { useTRPC } from '@/trpc/client.tsx';
import { formatNumber, formatSeconds, formatTime } from './format.ts';
import { Badge, Button, Card, ErrorText, TableHead } from './ui.tsx';

type Replay = inferRouterOutputs<AppRouter>['replay']['list'][number];

const REFRESH_MS = 5_000;
const TONES: Record<Replay['state'], string> = {
  starting: 'starting',
  running: 'starting',
  succeeded: 'ok',
  failed: 'fail',
  cancelled: 'paused',
};

/** A `datetime-local` value (minutes, UTC) → ISO, or the text as typed so the schema names it. */
const toIso = (local: string) => (local ? `${local}:00Z` : '');
const localUtc = (ms: number) => new Date(ms).toISOString().slice(0, 16);

/** Replays of the topic: start one (editors), follow progress, cancel, read the verify report. */
export function Replays({ topic, canEdit }: { topic: string; canEdit: boolean }) {
  const trpc = useTRPC();
  const list = useQuery({ ...trpc.replay.list.queryOptions({ name: topic }), refetchInterval: REFRESH_MS });
  return (
    <Card title="Replays">
      {canEdit && <StartReplay topic={topic} />}
      <ErrorText message={list.error?.message} />
      {list.data && list.data.length === 0 && <p className="text-sm text-slate-500">No replay yet.</p>}
      {list.data && list.data.length > 0 && (
        <ReplayTable replays={list.data} topic={topic} canEdit={canEdit} />
      )}
    </Card>
  );
}

/** A labelled input with its problem (or its help) under it. */
function Field(props: {
  id: string;
  label: string;
  value: string;
  onChange(value: string): void;
  error?: string | undefined;
  hint: string;
  type?: 'datetime-local';
  mono?: boolean;
}) {
  return (
    <div className="flex flex-col gap-1 text-sm">
      <label htmlFor={props.id} className="text-slate-600">
        {props.label}
      </label>
      <input
        id={props.id}
        type={props.type ?? 'text'}
        className={`rounded border border-slate-300 px-2 py-1 ${props.mono ? 'font-mono text-xs' : ''}`}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        aria-invalid={Boolean(props.error)}
      />
      {props.error ? (
        <p className="text-xs text-red-700" role="alert" data-field={props.id}>
          {props.error}
        </p>
      ) : (
        <p className="text-xs text-slate-500">{props.hint}</p>
      )}
    </div>
  );
}

function StartReplay({ topic }: { topic: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const now = Date.now();
  const [from, setFrom] = useState(localUtc(now - 3600_000));
  const [to, setTo] = useState(localUtc(now));
  const [target, setTarget] = useState<'ownLayout' | 'prefix'>('prefix');
  const [prefix, setPrefix] = useState('replays/');
  const [consumerGroup, setConsumerGroup] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const start = useMutation(
    trpc.replay.start.mutationOptions({
      onSuccess: () =>
        queryClient.invalidateQueries({ queryKey: trpc.replay.list.queryKey({ name: topic }) }),
      onError: (error) => {
        const fieldErrors = (error.data as { fieldErrors?: Record<string, string> } | undefined)?.fieldErrors;
        setErrors(fieldErrors && Object.keys(fieldErrors).length > 0 ? fieldErrors : { form: error.message });
      },
    }),
  );
  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    const input: ReplayRequestInput = {
      topic,
      from: toIso(from),
      to: toIso(to),
      target:
        target === 'prefix' ? { kind: 'prefix', prefix: prefix.replace(/\/+$/, '') } : { kind: 'ownLayout' },
      ...(consumerGroup.trim() ? { consumerGroup: consumerGroup.trim() } : {}),
    };
    // The procedure's own schema first: the same messages, without a round trip.
    const checked = ReplayRequest.safeParse(input);
    if (!checked.success) {
      setErrors(Object.fromEntries(checked.error.issues.map((i) => [i.path.join('.'), i.message])));
      return;
    }
    setErrors({});
    start.mutate(checked.data);
  };
  return (
    <form onSubmit={submit} className="mb-4 grid gap-3 sm:grid-cols-2" aria-label="Start a replay" noValidate>
      <Field
        id="replay-from"
        label="From (UTC)"
        error={errors.from}
        hint="First enqueued time replayed."
        value={from}
        onChange={setFrom}
        type="datetime-local"
      />
      <Field
        id="replay-to"
        label="To (UTC, not included)"
        error={errors.to}
        hint="At most now."
        value={to}
        onChange={setTo}
        type="datetime-local"
      />
      <fieldset className="flex flex-col gap-1 text-sm sm:col-span-2">
        <legend className="text-slate-600">Write into</legend>
        <label className="flex items-center gap-2">
          <input
            type="radio"
            name="replay-target"
            checked={target === 'prefix'}
            onChange={() => setTarget('prefix')}
          />
          a separate prefix
        </label>
        <label className="flex items-center gap-2">
          <input
            type="radio"
            name="replay-target"
            checked={target === 'ownLayout'}
            onChange={() => setTarget('ownLayout')}
          />
          the topic&apos;s own layout
        </label>
        {target === 'ownLayout' && (
          <p className="rounded bg-amber-50 px-2 py-1 text-xs text-amber-900" role="note">
            Rewrites the topic&apos;s files of this window in place. Files the live agent wrote come out byte
            for byte the same, but readers may see them replaced while the replay runs; files a bug spoiled
            are replaced by what the hub holds now.
          </p>
        )}
      </fieldset>
      {target === 'prefix' && (
        <Field
          id="replay-prefix"
          label="Prefix"
          error={errors['target.prefix']}
          hint="Folder in the topic's container."
          value={prefix}
          onChange={setPrefix}
          mono
        />
      )}
      <Field
        id="replay-group"
        label="Consumer group"
        error={errors.consumerGroup}
        hint="Empty: the topic's. While its agents run, name another group of the hub."
        value={consumerGroup}
        onChange={setConsumerGroup}
      />
      <div className="flex items-center gap-3 sm:col-span-2">
        <Button type="submit" disabled={start.isPending}>
          {start.isPending ? 'Checking the hub…' : 'Start replay'}
        </Button>
        <ErrorText
          message={errors.form ?? Object.entries(errors).find(([k]) => k.startsWith('startSequences'))?.[1]}
        />
      </div>
    </form>
  );
}

function ReplayTable({ replays, topic, canEdit }: { replays: Replay[]; topic: string; canEdit: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const cancel = useMutation(
    trpc.replay.cancel.mutationOptions({
      onSettled: () =>
        queryClient.invalidateQueries({ queryKey: trpc.replay.list.queryKey({ name: topic }) }),
    }),
  );
  return (
    <div className="overflow-x-auto">
      <ErrorText message={cancel.error?.message} />
      <table className="w-full text-sm" data-testid="replays">
        <TableHead
          columns={['Window (UTC)', 'Into', 'State', { numeric: 'Events' }, 'Partitions', 'Verify', '']}
        />
        <tbody>
          {replays.map((r) => (
            <tr key={r.id} className="border-t border-slate-100 align-top">
              <td className="px-2 py-1.5 whitespace-nowrap">
                {formatTime(r.from)} – {formatTime(r.to)}
              </td>
              <td className="px-2 py-1.5 font-mono text-xs">
                {r.target.kind === 'prefix' ? r.target.prefix : "topic's layout"}
              </td>
              <td className="px-2 py-1.5">
                <Badge tone={TONES[r.state]}>{r.state}</Badge>
                {r.message && <p className="mt-1 text-xs text-slate-600">{r.message}</p>}
              </td>
              <td className="px-2 py-1.5 text-right tabular-nums">
                {formatNumber(r.events)} / {formatNumber(r.totalEvents)}
                {r.secondsLeft !== null && (
                  <p className="text-xs text-slate-500">{formatSeconds(r.secondsLeft)} left</p>
                )}
              </td>
              <td className="px-2 py-1.5 tabular-nums">
                {r.partitionsDone} / {r.partitions.length} done
              </td>
              <td className="px-2 py-1.5">
                <VerifyResult verify={r.verify} />
              </td>
              <td className="px-2 py-1.5">
                {canEdit && (r.state === 'running' || r.state === 'starting') && (
                  <Button
                    variant="danger"
                    onClick={() => cancel.mutate({ id: r.id })}
                    disabled={cancel.isPending}
                  >
                    Cancel
                  </Button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function VerifyResult({ verify }: { verify: Replay['verify'] }) {
  if (!verify) return <span className="text-xs text-slate-500">—</span>;
  if (verify.error) return <span className="text-xs text-red-700">{verify.error}</span>;
  return (
    <details>
      <summary className="cursor-pointer">
        <Badge tone={verify.ok ? 'ok' : 'fail'}>
          {verify.ok ? 'verified' : `${verify.problems} problems`}
        </Badge>
      </summary>
      <ul className="mt-1 text-xs text-slate-600">
        {verify.cells.map((c) => (
          <li key={`${c.window}/${c.partition}`}>
            {c.window} · partition {c.partition}: {c.status}, {c.files} files
            {c.problems.map((p) => (
              <span key={p} className="block text-red-700">
                {p}
              </span>
            ))}
          </li>
        ))}
      </ul>
    </details>
  );
}
