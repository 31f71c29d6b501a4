import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rollupMinutes } from '../src/services/telemetry/metrics.ts';
import { measuredRates } from '../src/services/telemetry/sizing.ts';
import { createTopic, issueAgentToken } from '../src/services/topics/topics.ts';
import { agentReport, topicConfig } from './fixtures.ts';
import { type Harness, startHarness } from './harness.ts';

let api: Harness;
let token: string;
let viewer: string;

beforeEach(async () => {
  api = await startHarness();
  const { id } = await createTopic(
    api.prisma,
    api.secrets,
    topicConfig('orders', { scaling: { cpu: '250m', memory: '512Mi' } }),
    { actor: 'system' },
  );
  ({ token } = await issueAgentToken(api.prisma, id, 'orders-0'));
  viewer = await api.signedIn('viewer');
});
afterEach(() => api.close());

/**
 * Replicas report their rates through `agent.report`; the samples, timed on receipt, are then moved
 * `hoursAgo` back (all into one minute) and rolled up as the maintenance pass does.
 */
async function recorded(hoursAgo: number, rates: { replica: string; bytesPerSecond: number }[]) {
  const before = await api.prisma.metricSample.findMany({ select: { id: true } });
  for (const { replica, bytesPerSecond } of rates) {
    const report = agentReport('orders', {
      agentId: replica,
      bytesPerSecond,
      eventsPerSecond: bytesPerSecond / 1000,
    });
    expect((await api.call('agent.report', report, { token })).status).toBe(200);
  }
  const minute = new Date(Math.floor((Date.now() - hoursAgo * 3_600_000) / 60_000) * 60_000 + 1000);
  await api.prisma.metricSample.updateMany({
    where: { id: { notIn: before.map((s) => s.id) } },
    data: { at: minute },
  });
  await rollupMinutes(api.prisma, new Date(minute.getTime() - 60_000));
}

async function sizing() {
  const res = await api.call('topic.get', { name: 'orders' }, { cookie: viewer });
  expect(res.status).toBe(200);
  return res.body.result.data.sizing;
}

describe('the CPU and memory recommendation', () => {
  it('says nothing was measured and recommends from the format alone before any report', async () => {
    expect(await sizing()).toMatchObject({
      measurement: { rates: null, problem: null },
      advice: { basis: 'none', bytesPerSecond: 300e9 / 86_400, cpu: '600m', memory: '384Mi', replicas: 1 },
      scaling: { cpu: '250m', memory: '512Mi' },
      enough: false,
    });
  });

  it('sizes a 3× burst of the peak minute the replicas reported together in the last 24 h', async () => {
    await recorded(3, [
      { replica: 'orders-a', bytesPerSecond: 2e6 },
      { replica: 'orders-b', bytesPerSecond: 3e6 },
    ]);
    await recorded(1, [{ replica: 'orders-a', bytesPerSecond: 1e6 }]);
    // Older than the window: not this topic's recent peak.
    await recorded(25, [{ replica: 'orders-a', bytesPerSecond: 50e6 }]);
    const result = await sizing();
    expect(result.measurement.rates).toEqual({
      peakBytesPerSecond: 5e6,
      peakEventsPerSecond: 5000,
      windowHours: 24,
      minutes: 2,
    });
    // 5 MB/s × 3 × 51.3 CPU-s/GB = 0.77 core.
    expect(result.advice).toMatchObject({
      basis: 'measured',
      bytesPerSecond: 5e6,
      cpu: '800m',
      memory: '384Mi',
    });
    expect(result.enough).toBe(false);

    const measured = await api.call('topic.getMeasuredRates', { name: 'orders' }, { cookie: viewer });
    expect(measured.body.result.data).toEqual(result.measurement);
  });

  it('does not size from zero: agents that stopped reporting a day ago, or reported no byte', async () => {
    await recorded(25, [{ replica: 'orders-a', bytesPerSecond: 4e6 }]);
    expect((await sizing()).advice).toMatchObject({ basis: 'none', cpu: '600m' });
    await recorded(2, [{ replica: 'orders-a', bytesPerSecond: 0 }]);
    expect(await sizing()).toMatchObject({
      measurement: { rates: { peakBytesPerSecond: 0, minutes: 1 } },
      advice: { basis: 'idle', bytesPerSecond: 300e9 / 86_400, cpu: '600m' },
    });
  });

  it('counts only whole minutes: the one still filling would lower the peak as its reports arrive', async () => {
    const { id: topicId } = await api.prisma.topic.findUniqueOrThrow({ where: { slug: 'orders' } });
    const now = new Date(Date.UTC(2026, 10, 28, 2, 30, 40));
    const minuteRow = (minute: Date, bytesPerSecond: number) => ({
      topicId,
      minute,
      eventsPerSecond: bytesPerSecond / 1000,
      bytesPerSecond,
      lagEvents: 0n,
      lagSeconds: 0,
      files: 0,
      events: 0n,
      bytes: 0n,
      errors: 0,
      deadLettered: 0,
      samples: 1,
    });
    await api.prisma.metricMinute.createMany({
      data: [
        minuteRow(new Date(Date.UTC(2026, 10, 28, 2, 29)), 1e6),
        minuteRow(new Date(Date.UTC(2026, 10, 28, 2, 30)), 9e6),
      ],
    });
    expect((await measuredRates(api.prisma, topicId, now)).rates).toMatchObject({
      peakBytesPerSecond: 1e6,
      minutes: 1,
    });
  });

  it('names reported rates no hub can carry instead of failing the page', async () => {
    await recorded(1, [{ replica: 'orders-a', bytesPerSecond: 1e300 }]);
    const result = await sizing();
    expect(result.measurement).toEqual({
      rates: null,
      problem:
        'The agents reported rates no event hub carries (peakBytesPerSecond: must be at most 1e+12 bytes/s; peakEventsPerSecond: must be at most 1e+10 events/s).',
    });
    expect(result.advice.basis).toBe('none');
  });

  it('stores the defaults a topic was created with, so a later default never changes it', async () => {
    const { id } = await createTopic(api.prisma, api.secrets, topicConfig('clicks'), { actor: 'system' });
    const stored = await api.prisma.topicConfigVersion.findFirstOrThrow({ where: { topicId: id } });
    expect((stored.config as { scaling: unknown }).scaling).toEqual({
      replicas: 1,
      cpu: '1',
      memory: '512Mi',
    });
    const first = await api.prisma.topicConfigVersion.findFirstOrThrow({
      where: { topic: { slug: 'orders' } },
    });
    expect((first.config as { scaling: unknown }).scaling).toEqual({
      replicas: 1,
      cpu: '250m',
      memory: '512Mi',
    });
  });

  it('refuses names that are not topics', async () => {
    for (const name of ['', '../orders', 'x'.repeat(10_000), 'orders\u0000']) {
      const res = await api.call('topic.getMeasuredRates', { name }, { cookie: viewer });
      expect(res.status).toBe(400);
      expect(res.body.error.data.fieldErrors).toHaveProperty('name');
    }
    expect((await api.call('topic.getMeasuredRates', { name: 'nope' }, { cookie: viewer })).status).toBe(404);
  });
});
