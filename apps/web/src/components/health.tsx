import type { AppRouter } from '@hubcap/api';
import type { inferRouterOutputs } from '@trpc/server';
import { formatMoney, formatNumber, formatSeconds } from './format.ts';

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

/** Lag in seconds, its trend and the time to catch up, from the control plane's own readings. */
/**
 * The lag's trend and the time to catch up. The trend spans the control plane's readings of the last
 * minutes; the figure beside it is the newest, so the estimate divides the newest lag by the rate at
 * which the agents gain on the hub. Nothing is estimated while no agent writes.
 */
export function LagHint({
  lagEvents,
  lagSeconds,
  trend,
  writing,
}: {
  lagEvents: number;
  lagSeconds: number;
  trend: Detail['lagTrend'];
  writing: boolean;
}) {
  const parts = [`events · ${formatSeconds(lagSeconds)}`];
  if (lagEvents === 0) parts.push('caught up');
  else if (!writing) parts.push('no agent writes: it grows with every event');
  else if (trend) {
    const rate = trend.lagPerSecond;
    parts.push(
      Math.abs(rate) < 0.05
        ? 'steady'
        : `${rate > 0 ? 'growing' : 'shrinking'} ${formatNumber(Math.abs(rate), 1)}/s`,
    );
    const gaining = trend.writtenPerSecond - trend.arrivingPerSecond;
    parts.push(gaining > 0 ? `caught up in ~${formatSeconds(lagEvents / gaining)}` : 'not catching up');
  }
  return <span data-testid="lag-hint">{parts.join(' · ')}</span>;
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
