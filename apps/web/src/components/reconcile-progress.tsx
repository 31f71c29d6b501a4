'use client';

import type { AppRouter } from '@hubcap/api';
import { useQuery } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import { useTRPC } from '@/trpc/client.tsx';

type Progress = inferRouterOutputs<AppRouter>['deployment']['reconcileProgress'];

/** What the re-apply after this server started is doing; nothing once it is over without trouble. */
export function ReconcileProgress({ initial }: { initial: Progress }) {
  const trpc = useTRPC();
  const { data = initial } = useQuery(
    trpc.deployment.reconcileProgress.queryOptions(undefined, {
      initialData: initial,
      refetchInterval: (query) => (query.state.data?.state === 'running' ? 2_000 : false),
    }),
  );
  if (data.state === 'idle' || (data.state === 'done' && data.failed === 0 && data.drifted === 0))
    return null;
  const counts = [
    data.failed ? `${data.failed} failed` : '',
    data.drifted ? `${data.drifted} had drifted` : '',
  ].filter(Boolean);
  return (
    <p
      data-testid="reconcile-progress"
      className={`mb-4 rounded border px-3 py-2 text-sm ${data.failed ? 'border-red-200 bg-red-50 text-red-800' : 'border-slate-200 bg-slate-50 text-slate-700'}`}
    >
      {data.state === 'running'
        ? `Re-applying deployments after the server started: ${data.done} of ${data.total} done${data.current ? ` (now ${data.current})` : ''}`
        : `Re-applied ${data.total} deployment(s) after the server started`}
      {counts.length ? `; ${counts.join(', ')} (see each topic's deployment panel)` : ''}.
    </p>
  );
}
