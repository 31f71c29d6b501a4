import type { AgentReport } from '@hubcap/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTopic, issueAgentToken } from '../src/services/topics/topics.ts';
import { agentReport, topicConfig as config, EH_SECRET, STORAGE_SECRET } from './fixtures.ts';
import { type Harness, startHarness } from './harness.ts';

/** One partition carrying the whole rate. */
const report = (topic: string): AgentReport => {
  const base = agentReport(topic);
  return {
    ...base,
    agentId: 'orders-0',
    partitions: [{ ...base.partitions[0]!, eventsPerSecond: 50, bytesPerSecond: 50_000 }],
  };
};

let api: Harness;
let topicId: string;
let token: string;

beforeEach(async () => {
  api = await startHarness();
  ({ id: topicId } = await createTopic(api.prisma, api.secrets, config('orders'), { actor: 'system' }));
  ({ token } = await issueAgentToken(api.prisma, topicId, 'orders-0', { configAccess: true }));
});
afterEach(() => api.close());

describe('secrets at rest', () => {
  it('stores neither connection string in the config document nor in plain text anywhere', async () => {
    const [version] = await api.prisma.topicConfigVersion.findMany();
    const stored = JSON.stringify(version!.config);
    expect(stored).not.toContain('EH-KEY-123');
    expect(stored).not.toContain('STORAGE-KEY-456');
    const secrets = await api.prisma.secret.findMany();
    expect(secrets.map((s) => s.name).sort()).toEqual([
      'destination.account.connectionString',
      'source.auth.connectionString',
    ]);
    for (const secret of secrets) {
      expect(Buffer.from(secret.ciphertext).toString('utf8')).not.toMatch(/KEY-/);
    }
  });
});

describe('agent API', () => {
  it('gives an agent its full config, secrets opened', async () => {
    const res = await api.call('agent.config', undefined, { token });
    expect(res.status).toBe(200);
    expect(res.body.result.data.version).toBe(1);
    expect(res.body.result.data.config.source.auth.connectionString).toBe(EH_SECRET);
    expect(res.body.result.data.config.destination.account.connectionString).toBe(STORAGE_SECRET);
  });

  it('stores a report: partition state, a metric sample and the last-seen time', async () => {
    const res = await api.call('agent.report', report('orders'), { token });
    expect(res.status).toBe(200);
    expect(res.body.result.data).toEqual({ configVersion: 1 });
    const partition = await api.prisma.partitionState.findUniqueOrThrow({
      where: { topicId_partitionId: { topicId, partitionId: '0' } },
    });
    expect(partition.lastCheckpointSequenceNumber).toBe(90n);
    expect(partition.lagEvents).toBe(30n);
    const samples = await api.prisma.metricSample.findMany({ where: { topicId } });
    expect(samples).toHaveLength(1);
    expect(samples[0]!.eventsPerSecond).toBe(50);
    const agent = await api.prisma.agentInstance.findFirstOrThrow({ where: { topicId } });
    expect(agent.lastSeenAt).not.toBeNull();
  });

  it('refuses a report for another topic than the token’s', async () => {
    await createTopic(api.prisma, api.secrets, config('payments'), { actor: 'system' });
    const res = await api.call('agent.report', report('payments'), { token });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe('this agent token belongs to topic "orders", not "payments"');
    expect(await api.prisma.metricSample.count()).toBe(0);
  });

  it('refuses unknown and revoked tokens, and user sessions', async () => {
    expect((await api.call('agent.report', report('orders'), { token: 'hca_unknown' })).status).toBe(401);
    await api.prisma.agentInstance.updateMany({ data: { revokedAt: new Date() } });
    expect((await api.call('agent.config', undefined, { token })).status).toBe(401);
    const cookie = await api.signedIn('admin');
    expect((await api.call('agent.config', undefined, { cookie })).status).toBe(401);
  });

  it('rejects a malformed report, naming the fields, and stores nothing', async () => {
    const bad = { ...report('orders'), eventsPerSecond: -1, partitions: [{ partitionId: '' }] };
    const res = await api.call('agent.report', bad, { token });
    expect(res.status).toBe(400);
    expect(res.body.error.data.problems).toContain('eventsPerSecond: must not be negative');
    expect(res.body.error.data.problems).toContain('partitions[0].partitionId: partitionId is required');
    expect(await api.prisma.metricSample.count()).toBe(0);
    expect(await api.prisma.partitionState.count()).toBe(0);
  });
});
