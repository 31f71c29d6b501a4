import type { AppRouter } from '@hubcap/api';
import type { inferRouterOutputs } from '@trpc/server';
import { formatNumber, formatSeconds } from './format.ts';

type Detail = inferRouterOutputs<AppRouter>['topic']['get'];

/**
 * The lag's trend and the time to catch up. The trend spans the control plane's readings of the last
 * minutes; the figure beside it is the newest, so the estimate divides the newest lag by the rate at
 * which the agents gain on the hub. Nothing is estimated while no agent writes. Events younger than a
 * file's maximum age are only waiting for their file to close: the lag then rises and falls with every
 * file, and a trend read from it would flip between growing and shrinking.
 */
export function lagHint({
  lagEvents,
  lagSeconds,
  trend,
  writing,
  maxFileAgeSeconds,
}: {
  lagEvents: number;
  lagSeconds: number;
  trend: Detail['lagTrend'];
  writing: boolean;
  maxFileAgeSeconds: number;
}): string {
  const parts = [`events · ${formatSeconds(lagSeconds)}`];
  if (lagEvents === 0) parts.push('caught up');
  else if (!writing) parts.push('no agent writes: it grows with every event');
  else if (lagSeconds <= maxFileAgeSeconds)
    parts.push(`waiting for their file (files close within ${formatSeconds(maxFileAgeSeconds)})`);
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
  return parts.join(' · ');
}
