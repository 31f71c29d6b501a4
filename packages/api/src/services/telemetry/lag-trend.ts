/** Two of the control plane's lag readings of one topic (see LagSample). */
export interface LagPoint {
  at: Date;
  lagEvents: number;
  enqueued: number;
  checkpointed: number;
}

export interface LagTrend {
  /** Events per second arriving on the hub and written (checkpointed) by the agents, over the window. */
  arrivingPerSecond: number;
  writtenPerSecond: number;
  /** How fast the lag changes, events per second (positive: it grows). */
  lagPerSecond: number;
  /** Seconds until nothing waits at the current rates; 0 when nothing waits, null when it does not shrink. */
  catchUpSeconds: number | null;
  windowSeconds: number;
}

/**
 * Trend and time to catch up from the oldest and newest readings of a window. Agents checkpoint once
 * per file, so the window must span several flushes for the write rate to mean anything.
 */
export function lagTrend(points: LagPoint[]): LagTrend | null {
  const sorted = [...points].sort((a, b) => a.at.getTime() - b.at.getTime());
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  if (!first || !last || last === first) return null;
  const seconds = (last.at.getTime() - first.at.getTime()) / 1000;
  if (seconds <= 0) return null;
  const arrivingPerSecond = Math.max(0, (last.enqueued - first.enqueued) / seconds);
  const writtenPerSecond = Math.max(0, (last.checkpointed - first.checkpointed) / seconds);
  const shrinking = writtenPerSecond - arrivingPerSecond;
  return {
    arrivingPerSecond,
    writtenPerSecond,
    lagPerSecond: (last.lagEvents - first.lagEvents) / seconds,
    catchUpSeconds: last.lagEvents === 0 ? 0 : shrinking > 0 ? last.lagEvents / shrinking : null,
    windowSeconds: seconds,
  };
}
