import type { AppRouter } from '@hubcap/api';
import type { inferRouterOutputs } from '@trpc/server';
import { formatMoney } from './format.ts';
import { lagHint } from './lag-hint.ts';

type Detail = inferRouterOutputs<AppRouter>['topic']['get'];

/** Why a topic is not healthy, in one line under its name; an error when it cannot work as set up. */
export function StatusReason({ status, reason }: { status: string; reason: string }) {
  if (!reason) return null;
  const error = status === 'failing';
  return (
    <p
      role={error ? 'alert' : 'status'}
      data-testid="status-reason"
      className={`rounded border px-3 py-2 text-sm ${error ? 'border-red-200 bg-red-50 text-red-800' : 'border-slate-200 bg-slate-50 text-slate-700'}`}
    >
      <span className="font-medium">{status}:</span> {reason}
    </p>
  );
}

export function LagHint(props: Parameters<typeof lagHint>[0]) {
  return <span data-testid="lag-hint">{lagHint(props)}</span>;
}

/** Capture bills the namespace, not the topic: its figure, TUs and what they rest on. */
export function NamespaceCostHint({ cost }: { cost: Detail['namespaceCost'] }) {
  if (!cost) return <span>not deployed: no cost counted</span>;
  const tus = `${cost.throughputUnits} TU${cost.throughputUnitsFrom === 'setting' ? ', set by an admin' : ' for its ingress'}`;
  return (
    <span title={`Topics in ${cost.namespace}: ${cost.topics.join(', ')}`}>
      Capture for {cost.namespace}: {formatMoney(cost.captureMonthly)} ({tus}, {cost.topics.length} topic
      {cost.topics.length === 1 ? '' : 's'})
    </span>
  );
}
