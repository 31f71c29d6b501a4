import { describe, expect, it } from 'vitest';
import { createTopic, issueAgentToken } from '../src/services/topics/topics.ts';
import { agentReport, topicConfig } from './fixtures.ts';
import { type Harness, harnessPerTest } from './harness.ts';

let api: Harness;
let viewer: string;
harnessPerTest(async (started) => {
  api = started;
  viewer = await api.signedIn('viewer');
});

/** A topic whose one replica the deployer reports running and ready; returns its id. */
async function runningTopic(name: string, deployment: { lastAppliedAt?: Date } = {}): Promise<string> {
  const { id } = await createTopic(api.prisma, api.secrets, topicConfig(name), { actor: 'system' });
  await api.prisma.deployment.create({
    data: {
      topicId: id,
      target: 'kubernetes',
      phase: 'running',
      configVersion: 1,
      desiredReplicas: 1,
      readyReplicas: 1,
      ...deployment,
    },
  });
  return id;
}

const fleet = async () => (await api.call('topic.list', undefined, { cookie: viewer })).body.result.data;

describe('health and figures from facts', () => {
  it('is healthy only with every replica ready; a removed topic stops showing throughput and cost at once', async () => {
    const id = await runningTopic('orders', { lastAppliedAt: new Date(Date.now() - 3_600_000) });
    const { token } = await issueAgentToken(api.prisma, id, 'orders-0');
    expect((await api.call('agent.report', agentReport('orders'), { token })).status).toBe(200);
    let view = await fleet();
    expect(view.topics[0]).toMatchObject({ status: 'healthy', statusReason: '', eventsPerSecond: 50 });
    expect(view.totals.eventsPerSecond).toBe(50);
    expect(view.cost.namespaces.map((n: { namespace: string }) => n.namespace)).toEqual([
      'contoso.servicebus.windows.net',
    ]);

    // A restarted agent reports no checkpoint until its first file: the stored one stays true.
    const restarted = agentReport('orders');
    restarted.partitions = restarted.partitions.map((p) => ({ ...p, lastCheckpointed: null }));
    expect((await api.call('agent.report', restarted, { token })).status).toBe(200);
    const kept = await api.prisma.partitionState.findMany({ where: { topicId: id } });
    expect(kept.every((p) => p.lastCheckpointSequenceNumber !== null && p.lastCheckpointTime !== null)).toBe(
      true,
    );
    expect((await fleet()).topics[0]).toMatchObject({ status: 'healthy' });

    // One file its writer refused (issue: an event that could stall the partition): failing at once.
    const refused = {
      ...agentReport('orders'),
      errors: [
        {
          at: new Date().toISOString(),
          kind: 'encoding' as const,
          message: 'partition 0: the parquet writer refused file …',
          partitionId: '0',
          retryable: true,
        },
      ],
    };
    expect((await api.call('agent.report', refused, { token })).status).toBe(200);
    expect((await fleet()).topics[0]).toMatchObject({
      status: 'failing',
      statusReason: expect.stringMatching(/^the writer refused 1 file in the last 10 min/),
    });
    await api.prisma.topicError.deleteMany({ where: { topicId: id } });

    // The pod stopped being ready: not healthy, whatever the agent said last.
    await api.prisma.deployment.update({ where: { topicId: id }, data: { readyReplicas: 0 } });
    expect((await fleet()).topics[0]).toMatchObject({
      status: 'failing',
      statusReason: '0/1 replicas ready',
    });

    // Removed (as deployment.remove leaves it: the row deleted, the tokens revoked).
    await api.prisma.deployment.update({
      where: { topicId: id },
      data: { phase: 'deleted', readyReplicas: 0 },
    });
    await api.prisma.agentInstance.updateMany({ where: { topicId: id }, data: { revokedAt: new Date() } });
    view = await fleet();
    expect(view.topics[0]).toMatchObject({
      status: 'not deployed',
      eventsPerSecond: 0,
      megabytesPerSecond: 0,
      agentsMonthly: 0,
    });
    expect(view.totals).toMatchObject({ eventsPerSecond: 0, captureMonthly: 0, agentsMonthly: 0 });
    expect(view.cost.namespaces).toEqual([]);
  });

  it('lets only an admin set a namespace’s TUs, names a bad value, and the Capture figure follows', async () => {
    await runningTopic('orders');
    const admin = await api.signedIn('admin');
    const editor = await api.signedIn('editor');
    const set = (input: unknown, cookie = admin) =>
      api.call('settings.setThroughputUnits', input, { cookie });
    expect(
      (await set({ namespace: 'contoso.servicebus.windows.net', throughputUnits: 4 }, editor)).status,
    ).toBe(403);
    for (const [input, message] of [
      [
        { namespace: 'contoso.servicebus.windows.net', throughputUnits: 0 },
        'throughputUnits: must be at least 1',
      ],
      [
        { namespace: 'contoso.servicebus.windows.net', throughputUnits: 2 ** 53 },
        'throughputUnits: must be at most 1000; throughputUnits: must be a whole number',
      ],
      [
        { namespace: 'contoso.servicebus.windows.net', throughputUnits: 1.5 },
        'throughputUnits: must be a whole number',
      ],
      [
        { namespace: '../etc', throughputUnits: 2 },
        'namespace: must be a host name such as myns.servicebus.windows.net',
      ],
      [{ namespace: 'a'.repeat(300), throughputUnits: 2 }, 'namespace: must be at most 255 characters'],
    ] as const) {
      const res = await set(input);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toBe(message);
    }
    expect((await set({ namespace: 'Contoso.servicebus.windows.net', throughputUnits: 4 })).status).toBe(200);
    expect((await fleet()).cost.namespaces[0]).toMatchObject({
      throughputUnits: 4,
      throughputUnitsFrom: 'setting',
      captureMonthly: 292,
    });
    expect((await set({ namespace: 'contoso.servicebus.windows.net', throughputUnits: null })).status).toBe(
      200,
    );
    expect((await fleet()).cost.namespaces[0]).toMatchObject({
      throughputUnits: 1,
      throughputUnitsFrom: 'traffic',
    });
  });
});
