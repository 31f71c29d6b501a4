import { describe, expect, it } from 'vitest';
import { Settings } from './settings.ts';
import { topicStatus } from './status.ts';

const alerts = Settings.parse({}).alerts;
const now = new Date('2026-03-07T10:00:00Z');
const base = {
  desiredState: 'running' as const,
  deploymentPhase: null,
  lastSeenAt: now,
  lagSeconds: 1,
  recentErrors: 0,
  now,
};

describe('topicStatus', () => {
  it('names the most urgent condition', () => {
    expect(topicStatus(base, alerts)).toBe('healthy');
    expect(topicStatus({ ...base, lagSeconds: 301 }, alerts)).toBe('lagging');
    expect(topicStatus({ ...base, recentErrors: 5, lagSeconds: 301 }, alerts)).toBe('failing');
    expect(topicStatus({ ...base, lastSeenAt: new Date(now.getTime() - 6 * 60_000) }, alerts)).toBe('silent');
    expect(topicStatus({ ...base, desiredState: 'paused' }, alerts)).toBe('paused');
    expect(topicStatus({ ...base, lastSeenAt: null }, alerts)).toBe('not deployed');
    expect(topicStatus({ ...base, lastSeenAt: null, deploymentPhase: 'applying' }, alerts)).toBe('silent');
    expect(topicStatus({ ...base, deploymentPhase: 'failed' }, alerts)).toBe('failing');
  });
});
