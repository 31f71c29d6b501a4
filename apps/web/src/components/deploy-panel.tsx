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
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);
  const options = {
    onSuccess: (s: { message: string }) => setOutcome({ ok: true, text: s?.message || 'done' }),
    onError: (e: { message: string }) => setOutcome({ ok: false, text: e.message }),
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
        onSuccess: () => setOutcome({ ok: true, text: 'removed' }),
      }),
    ),
  } as never;
  const record = status.data?.record;
  const busy = Object.values(mutations).some((m) => m.isPending);
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
        <p className="text-slate-500">Not deployed.</p>
      )}
      {status.data?.liveError && <p className="text-amber-700">{status.data.liveError}</p>}
      {canEdit && (
        <div className="flex flex-wrap gap-2">
          <Button
            disabled={busy}
            onClick={() => run(record && record.phase !== 'deleted' ? 'redeploy' : 'deploy')}
          >
            {record && record.phase !== 'deleted' ? 'Redeploy' : 'Deploy'}
          </Button>
          <Button variant="secondary" disabled={busy || !record} onClick={() => run('pause')}>
            Pause
          </Button>
          <Button variant="secondary" disabled={busy || !record} onClick={() => run('resume')}>
            Resume
          </Button>
          <Button variant="danger" disabled={busy || !record} onClick={() => run('remove')}>
            Remove
          </Button>
        </div>
      )}
      {outcome && (
        <p role="status" className={outcome.ok ? 'text-emerald-700' : 'text-red-700'}>
          {outcome.text}
        </p>
      )}
      <a href={`/api/topics/${topic}/manifests`} className="inline-block text-xs underline">
        Export Kubernetes manifests (YAML, secrets redacted)
      </a>
    </div>
  );
}
