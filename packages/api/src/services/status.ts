import type { Settings } from './settings.ts';

export type TopicStatus = 'healthy' | 'lagging' | 'silent' | 'failing' | 'paused' | 'not deployed';
export const TOPIC_STATUSES: TopicStatus[] = [
  'healthy',
  'lagging',
  'silent',
  'failing',
  'paused',
  'not deployed',
];

export interface StatusInput {
  desiredState: 'running' | 'paused';
  deploymentPhase: string | null;
  lastSeenAt: Date | null;
  lagSeconds: number;
  recentErrors: number;
  now: Date;
}

/** One word for a topic's health, most urgent first. */
export function topicStatus(input: StatusInput, alerts: Settings['alerts']): TopicStatus {
  if (input.desiredState === 'paused' || input.deploymentPhase === 'paused') return 'paused';
  if (input.deploymentPhase === 'failed') return 'failing';
  if (!input.lastSeenAt)
    return input.deploymentPhase && input.deploymentPhase !== 'deleted' ? 'silent' : 'not deployed';
  if (input.now.getTime() - input.lastSeenAt.getTime() > alerts.silentMinutes * 60_000) return 'silent';
  if (input.recentErrors >= alerts.errorCount) return 'failing';
  if (input.lagSeconds > alerts.lagSeconds) return 'lagging';
  return 'healthy';
}
