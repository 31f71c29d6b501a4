import type { Settings } from '../accounts/settings.ts';

export type TopicStatus =
  | 'starting'
  | 'healthy'
  | 'lagging'
  | 'paused'
  | 'failing'
  | 'stale'
  | 'not deployed';
export const TOPIC_STATUSES: TopicStatus[] = [
  'starting',
  'healthy',
  'lagging',
  'paused',
  'failing',
  'stale',
  'not deployed',
];

export interface StatusInput {
  desiredState: 'running' | 'paused';
  /** The recorded deployment (null: never deployed by the control plane). */
  deployment: {
    phase: string;
    readyReplicas: number;
    desiredReplicas: number;
    /** When it was last applied: the start of the current rollout. */
    since: Date;
    message: string;
  } | null;
  /** The newest report of any of the topic's agents. */
  lastSeenAt: Date | null;
  reportIntervalSeconds: number;
  /** The topic's flush age: the oldest unwritten event may be this old before a file is due. */
  maxAgeSeconds: number;
  lagEvents: number;
  lagSeconds: number;
  /** Partitions with events waiting that were never checkpointed. */
  waitingWithoutCheckpoint: number;
  recentErrors: number;
  /** Files an agent's writer refused in the same window: it is isolating the event that causes it. */
  refusedFiles: number;
  /** Another topic reading the same namespace, event hub and consumer group. */
  sourceSharedWith: string | null;
  now: Date;
}

export interface TopicHealth {
  status: TopicStatus;
  /** Why, in one sentence a person can act on (empty when healthy). */
  reason: string;
}

/** A report is fresh within three report intervals (at least 30 s, for network hiccups). */
export function staleAfterMs(reportIntervalSeconds: number): number {
  return Math.max(3 * reportIntervalSeconds, 30) * 1000;
}

/** Lag beyond the flush age plus the alert threshold is lagging: a file per flush age is expected. */
export function lagThresholdSeconds(maxAgeSeconds: number, alerts: Settings['alerts']): number {
  return maxAgeSeconds + alerts.lagSeconds;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * A topic's health from facts, most urgent first. *healthy* needs fresh reports, every replica ready,
 * a checkpoint on every partition where events wait, and lag under the threshold; a rollout or a
 * first checkpoint gets a grace period as *starting*, after which it is *failing*.
 */
export function topicStatus(input: StatusInput, alerts: Settings['alerts']): TopicHealth {
  const { deployment, now } = input;
  const deployed = deployment !== null && deployment.phase !== 'deleted';
  if (!deployed && !input.lastSeenAt) return { status: 'not deployed', reason: '' };
  const waiting = input.lagEvents > 0 ? `; ${plural(input.lagEvents, 'event')} wait` : '';
  if (input.desiredState === 'paused' || deployment?.phase === 'paused')
    return { status: 'paused', reason: `no agent runs${waiting}` };
  if (input.sourceSharedWith)
    return {
      status: 'failing',
      reason: `topic "${input.sourceSharedWith}" reads the same event hub with the same consumer group: each takes partitions from the other`,
    };
  if (deployment?.phase === 'failed')
    return { status: 'failing', reason: deployment.message || 'the deployment failed' };
  if (input.refusedFiles > 0)
    return {
      status: 'failing',
      reason: `the writer refused ${plural(input.refusedFiles, 'file')} in the last ${alerts.errorMinutes} min: the agent re-reads it in parts to isolate the event that causes it as a dead letter (see errors)`,
    };
  if (input.recentErrors >= alerts.errorCount)
    return {
      status: 'failing',
      reason: `${plural(input.recentErrors, 'error')} in the last ${alerts.errorMinutes} min`,
    };

  // A rollout (or a first report and checkpoint) may take this long before it counts as failing.
  const graceMs = (2 * input.maxAgeSeconds + 3 * input.reportIntervalSeconds + 60) * 1000;
  const inGrace = deployed && now.getTime() - deployment.since.getTime() < graceMs;
  const sinceSeen = input.lastSeenAt ? now.getTime() - input.lastSeenAt.getTime() : null;
  const fresh = sinceSeen !== null && sinceSeen <= staleAfterMs(input.reportIntervalSeconds);
  const reportedSinceDeploy =
    input.lastSeenAt !== null && (!deployed || input.lastSeenAt >= deployment.since);

  if (!reportedSinceDeploy || !fresh) {
    if (inGrace && !reportedSinceDeploy)
      return { status: 'starting', reason: `waiting for the agent's first report${waiting}` };
    return {
      status: 'stale',
      reason:
        sinceSeen === null
          ? `no report from any agent${waiting}`
          : `no report for ${Math.round(sinceSeen / 1000)} s${waiting}`,
    };
  }
  if (deployed && deployment.readyReplicas < deployment.desiredReplicas) {
    const ready = `${deployment.readyReplicas}/${deployment.desiredReplicas} replicas ready`;
    return inGrace ? { status: 'starting', reason: ready } : { status: 'failing', reason: ready };
  }
  if (input.lagEvents > 0 && input.waitingWithoutCheckpoint > 0) {
    const reason = `no checkpoint yet on ${plural(input.waitingWithoutCheckpoint, 'partition')}${waiting}`;
    return inGrace || !deployed ? { status: 'starting', reason } : { status: 'failing', reason };
  }
  const threshold = lagThresholdSeconds(input.maxAgeSeconds, alerts);
  if (input.lagSeconds > threshold)
    return {
      status: 'lagging',
      reason: `the oldest unwritten event is ${Math.round(input.lagSeconds)} s old (threshold ${threshold} s)`,
    };
  return { status: 'healthy', reason: '' };
}
