import { describe, expect, it } from 'vitest';
import { Settings } from '../accounts/settings.ts';
import { type StatusInput, topicStatus } from './status.ts';

const alerts = Settings.parse({}).alerts;
const now = new Date('2026-03-07T10:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000);
const base: StatusInput = {
  desiredState: 'running',
  deployment: {
    phase: 'running',
    readyReplicas: 1,
    desiredReplicas: 1,
    since: ago(3600),
    message: '1/1 ready.',
  },
  lastSeenAt: ago(2),
  reportIntervalSeconds: 10,
  maxAgeSeconds: 60,
  lagEvents: 40,
  lagSeconds: 20,
  waitingWithoutCheckpoint: 0,
  recentErrors: 0,
  refusedFiles: 0,
  sourceSharedWith: null,
  now,
};
const status = (over: Partial<StatusInput>) => topicStatus({ ...base, ...over }, alerts);

describe('topicStatus', () => {
  it('is healthy only with fresh reports, every replica ready, checkpoints and lag under the threshold', () => {
    expect(status({})).toEqual({ status: 'healthy', reason: '' });
    expect(status({ lagEvents: 0, lagSeconds: 0 }).status).toBe('healthy');
  });

  it('is starting until the agent reported and checkpointed, within the grace after a deploy', () => {
    const deployment = { ...base.deployment!, phase: 'applying', readyReplicas: 0, since: ago(20) };
    expect(status({ deployment, lastSeenAt: null })).toEqual({
      status: 'starting',
      reason: "waiting for the agent's first report; 40 events wait",
    });
    expect(status({ deployment, lastSeenAt: ago(1) })).toEqual({
      status: 'starting',
      reason: '0/1 replicas ready',
    });
    expect(status({ deployment: { ...deployment, readyReplicas: 1 }, waitingWithoutCheckpoint: 2 })).toEqual({
      status: 'starting',
      reason: 'no checkpoint yet on 2 partitions; 40 events wait',
    });
  });

  it('never says healthy with 0/1 replicas ready or no checkpoint while events wait, once the grace is over', () => {
    const deployment = { ...base.deployment!, readyReplicas: 0 };
    expect(status({ deployment })).toEqual({ status: 'failing', reason: '0/1 replicas ready' });
    expect(status({ waitingWithoutCheckpoint: 1 })).toEqual({
      status: 'failing',
      reason: 'no checkpoint yet on 1 partition; 40 events wait',
    });
  });

  it('is stale without a fresh report, whatever was last reported', () => {
    expect(status({ lastSeenAt: ago(31) })).toEqual({
      status: 'stale',
      reason: 'no report for 31 s; 40 events wait',
    });
    expect(status({ lastSeenAt: null })).toEqual({
      status: 'stale',
      reason: 'no report from any agent; 40 events wait',
    });
    // A report from before the current rollout does not count.
    expect(status({ deployment: { ...base.deployment!, since: ago(1) }, lastSeenAt: ago(5) }).status).toBe(
      'starting',
    );
  });

  it('is lagging beyond the flush age plus the alert threshold', () => {
    expect(status({ lagSeconds: 360 }).status).toBe('healthy');
    expect(status({ lagSeconds: 361 })).toEqual({
      status: 'lagging',
      reason: 'the oldest unwritten event is 361 s old (threshold 360 s)',
    });
  });

  it('names paused, failing and not deployed first', () => {
    expect(status({ desiredState: 'paused', lastSeenAt: ago(600) })).toEqual({
      status: 'paused',
      reason: 'no agent runs; 40 events wait',
    });
    expect(
      status({ deployment: { ...base.deployment!, phase: 'failed', message: 'image pull failed' } }),
    ).toEqual({
      status: 'failing',
      reason: 'image pull failed',
    });
    expect(status({ recentErrors: 5 }).status).toBe('failing');
    // One refused file is enough: its partition re-reads until the event that causes it is isolated.
    expect(status({ recentErrors: 1, refusedFiles: 1 })).toMatchObject({
      status: 'failing',
      reason: expect.stringMatching(/^the writer refused 1 file in the last 10 min/),
    });
    expect(status({ sourceSharedWith: 'orders' }).reason).toMatch(/topic "orders" reads the same event hub/);
    expect(status({ deployment: null, lastSeenAt: null }).status).toBe('not deployed');
    expect(status({ deployment: { ...base.deployment!, phase: 'deleted' }, lastSeenAt: null }).status).toBe(
      'not deployed',
    );
    // An agent run by hand (no deployment) that reports is watched like a deployed one.
    expect(status({ deployment: null }).status).toBe('healthy');
  });
});
