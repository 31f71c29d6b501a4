'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '@/trpc/client.tsx';
import { Badge, Button } from './ui.tsx';

type Action = 'deploy' | 'redeploy' | 'pause' | 'resume' | 'remove';

/** Deployment status (recorded and live) and, for editors, the deploy / pause / resume / remove buttons. */
export function DeployPanel({ topic, canEdit }: { topic: string; canEdit: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const status = useQuery(trpc.deployment.status.queryOptions({ topic }, { refetchInterval: 10_000 }));
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string; at: number } | null>(null);
  const options = {
    onSuccess: (s: { message: string }) =>
      setOutcome({ ok: true, text: s?.message || 'done', at: Date.now() }),
    onError: (e: { message: string }) => setOutcome({ ok: false, text: e.message, at: Date.now() }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.deployment.status.queryKey({ topic }) }),
  };
  const mutations: Record<
    Action,
    ReturnType<typeof useMutation<unknown, { message: string }, { topic: string }>>
  > = {
    deploy: useMutation(trpc.deployment.deploy.mutationOptions(options)),
    redeploy: useMutation(trpc.deployment.redeploy.mutationOptions(options)),
    pause: useMutation(trpc.deployment.pause.mutationOptions(options)),
    resume: useMutation(trpc.deployment.resume.mutationOptions(options)),
    remove: useMutation(
      trpc.deployment.remove.mutationOptions({
        ...options,
        onSuccess: () => setOutcome({ ok: true, text: 'removed', at: Date.now() }),
      }),
    ),
  } as never;
  const record = status.data?.record;
  const deployed = record !== undefined && record !== null && record.phase !== 'deleted';
  const busy = status.isPending || Object.values(mutations).some((m) => m.isPending);
  // What the deployer answered when asked; once the status is read again, the status says what is true.
  const shownOutcome = outcome && (!outcome.ok || status.dataUpdatedAt <= outcome.at) ? outcome : null;
  const run = (action: Action) => {
    if (action === 'remove' && !window.confirm(`Remove the agent of ${topic}? Files already written stay.`))
      return;
    setOutcome(null);
    mutations[action].mutate({ topic });
  };

  return (
    <div className="space-y-3 text-sm" data-testid="deploy-panel">
      {record ? (
        <dl className="grid grid-cols-2 gap-1">
          <dt className="text-slate-500">Phase</dt>
          <dd>
            <Badge tone={record.phase}>{record.phase}</Badge>
          </dd>
          <dt className="text-slate-500">Target</dt>
          <dd>{record.target}</dd>
          <dt className="text-slate-500">Replicas ready</dt>
          <dd>
            {record.readyReplicas} / {record.desiredReplicas}
          </dd>
          <dt className="text-slate-500">Config version</dt>
          <dd>v{record.configVersion}</dd>
          <dt className="text-slate-500">Message</dt>
          <dd>{record.message || '—'}</dd>
        </dl>
      ) : (
        <p className="text-slate-500">{status.isPending ? 'Reading the deployment…' : 'Not deployed.'}</p>
      )}
      {status.data?.liveError && <p className="text-amber-700">{status.data.liveError}</p>}
      <Replicas replicas={status.data?.live?.replicas ?? []} />
      {canEdit && (
        <div className="flex flex-wrap gap-2">
          <Button disabled={busy} onClick={() => run(deployed ? 'redeploy' : 'deploy')}>
            {deployed ? 'Redeploy' : 'Deploy'}
          </Button>
          <Button variant="secondary" disabled={busy || !deployed} onClick={() => run('pause')}>
            Pause
          </Button>
          <Button variant="secondary" disabled={busy || !deployed} onClick={() => run('resume')}>
            Resume
          </Button>
          <Button variant="danger" disabled={busy || !deployed} onClick={() => run('remove')}>
            Remove
          </Button>
        </div>
      )}
      {shownOutcome && (
        <p role="status" className={shownOutcome.ok ? 'text-emerald-700' : 'text-red-700'}>
          {shownOutcome.text}
        </p>
      )}
      <a href={`/api/topics/${topic}/manifests`} className="inline-block text-xs underline">
        Export Kubernetes manifests (YAML, secrets redacted)
      </a>
      {record && <AgentLogs topic={topic} />}
    </div>
  );
}

interface Replica {
  name: string;
  phase: string;
  ready: boolean;
  restarts: number;
  waitingReason?: string;
  lastTermination?: { reason: string; exitCode: number | null; finishedAt?: string };
}

/** Each pod (or local process): phase, restarts and why it last stopped. */
function Replicas({ replicas }: { replicas: Replica[] }) {
  if (replicas.length === 0) return null;
  return (
    <table className="w-full text-xs" data-testid="replicas">
      <thead className="text-left text-slate-500">
        <tr>
          <th className="py-1">Replica</th>
          <th>Phase</th>
          <th>Restarts</th>
          <th>Last stop</th>
        </tr>
      </thead>
      <tbody>
        {replicas.map((r) => (
          <tr key={r.name} className="border-t border-slate-100">
            <td className="py-1 font-mono">{r.name}</td>
            <td>
              {r.phase}
              {r.ready ? '' : ' (not ready)'}
              {r.waitingReason ? ` · ${r.waitingReason}` : ''}
            </td>
            <td>{r.restarts}</td>
            <td>
              {r.lastTermination
                ? `${r.lastTermination.reason}${r.lastTermination.exitCode === null ? '' : ` (exit ${r.lastTermination.exitCode})`}`
                : '—'}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The agent's recent log lines, fetched only while the section is open. */
function AgentLogs({ topic }: { topic: string }) {
  const trpc = useTRPC();
  const [open, setOpen] = useState(false);
  const logs = useQuery(
    trpc.deployment.logs.queryOptions({ topic, limit: 200 }, { enabled: open, refetchInterval: 5_000 }),
  );
  return (
    <details onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary className="cursor-pointer text-xs text-slate-600">Agent logs</summary>
      {logs.error ? (
        <p className="text-xs text-red-700">{logs.error.message}</p>
      ) : (
        <pre className="mt-2 max-h-72 overflow-auto rounded bg-slate-900 p-2 text-[11px] leading-snug text-slate-100">
          {(logs.data ?? []).map((l) => `${l.at} ${l.source} ${l.line}`).join('\n') || 'No log lines yet.'}
        </pre>
      )}
    </details>
  );
}
