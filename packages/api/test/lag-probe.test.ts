import { BlobServiceClient } from '@azure/storage-blob';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import { type LocalEventHubs, startLocalEventHubs } from '@hubcap/local-eventhubs';
import { checkpointBlobPrefix } from '@hubcap/shared';
import { localTopicInput } from '@hubcap/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeLag } from '../src/services/telemetry/lag-probe.ts';
import { createTopic, issueAgentToken } from '../src/services/topics/topics.ts';
import { agentReport, sendEvents } from './fixtures.ts';
import { type Harness, startHarness } from './harness.ts';

let api: Harness;
let hubs: LocalEventHubs;
let azurite: Azurite;

beforeAll(async () => {
  [api, hubs, azurite] = await Promise.all([
    startHarness(),
    startLocalEventHubs({
      host: '127.0.0.1',
      port: 0,
      hubs: [{ name: 'orders', partitionCount: 2, consumerGroups: ['refunds'] }],
    }),
    startAzurite(),
  ]);
}, 120_000);
afterAll(async () => {
  await Promise.all([api?.close(), hubs?.close(), azurite?.close()]);
});

const send = (partitionId: string, count: number) =>
  sendEvents(hubs.connectionString(), 'orders', partitionId, count);

describe('lag read by the control plane itself', () => {
  it('reads each partition from Event Hubs and the checkpoint store: a paused topic shows its lag growing and 0 events/s', {
    timeout: 90_000,
  }, async () => {
    const namespace = `127.0.0.1:${hubs.port}`;
    const { id } = await createTopic(
      api.prisma,
      api.secrets,
      {
        ...localTopicInput('orders', {
          namespace,
          hub: 'orders',
          eventHubs: hubs.connectionString(),
          storage: azurite.connectionString,
        }),
        batching: { maxAgeSeconds: 10 },
      },
      { actor: 'system' },
    );
    // An agent reported 50 events/s, then the topic was paused: that rate is no longer true.
    const { token } = await issueAgentToken(api.prisma, id, 'orders-0');
    expect((await api.call('agent.report', agentReport('orders'), { token })).status).toBe(200);
    await api.prisma.topic.update({ where: { id }, data: { desiredState: 'paused' } });
    await api.prisma.deployment.create({
      data: { topicId: id, target: 'local', phase: 'paused', configVersion: 1, desiredReplicas: 0 },
    });

    const sentAt = Date.now();
    await send('0', 30);
    await send('1', 30);
    // The agent had written partition 0 up to sequence number 9; partition 1 never.
    const checkpoints = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
      'hubcap-checkpoints',
    );
    await checkpoints.createIfNotExists();
    // The SDK names checkpoints by the endpoint's host, without its port.
    const prefix = checkpointBlobPrefix('orders', '127.0.0.1', 'orders', '$Default');
    await checkpoints
      .getBlockBlobClient(`${prefix}0`)
      .upload('', 0, { metadata: { sequencenumber: '9', offset: '9' } });
    // Another topic's checkpoint on the same hub and group is not this topic's.
    const other = checkpointBlobPrefix('audit', '127.0.0.1', 'orders', '$Default');
    await checkpoints
      .getBlockBlobClient(`${other}1`)
      .upload('', 0, { metadata: { sequencenumber: '29', offset: '29' } });

    await new Promise((r) => setTimeout(r, 1100));
    expect(await probeLag(api.prisma, api.secrets)).toEqual({ probed: 1, failed: 0 });
    const rows = await api.prisma.partitionState.findMany({
      where: { topicId: id },
      orderBy: { partitionId: 'asc' },
    });
    expect(rows.map((p) => [p.partitionId, Number(p.lagEvents), p.lastCheckpointSequenceNumber])).toEqual([
      ['0', 20, 9n],
      ['1', 30, null],
    ]);
    expect(rows[0]!.checkpointedAt).toBeInstanceOf(Date);
    // The age of the oldest unwritten event, read from the hub (not the 4 s the agent last reported,
    // although that report is fresh: the topic is paused, so nothing holds its partitions).
    const age = (Date.now() - sentAt) / 1000;
    for (const p of rows) {
      expect(p.lagSeconds).toBeGreaterThan(1);
      expect(p.lagSeconds).toBeLessThanOrEqual(age + 0.1);
    }
    expect(rows.every((p) => p.lastEnqueuedSequenceNumber === 29n)).toBe(true);

    await send('1', 10);
    await new Promise((r) => setTimeout(r, 1000));
    await probeLag(api.prisma, api.secrets);

    const viewer = await api.signedIn('viewer');
    const topic = (await api.call('topic.get', { name: 'orders' }, { cookie: viewer })).body.result.data;
    expect(topic).toMatchObject({
      status: 'paused',
      statusReason: 'no agent runs; 60 events wait',
      lagEvents: 60,
    });
    expect(topic.eventsPerSecond).toBe(0);
    expect(topic.partitions.map((p: { eventsPerSecond: number }) => p.eventsPerSecond)).toEqual([0, 0]);
    expect(topic.lagTrend).toMatchObject({ writtenPerSecond: 0, catchUpSeconds: null });
    expect(topic.lagTrend.lagPerSecond).toBeGreaterThan(0);
    expect(topic.lagTrend.arrivingPerSecond).toBeGreaterThan(0);
    const lagPoints = topic.series.filter((p: { lagEvents: number }) => p.lagEvents === 60);
    expect(lagPoints.length).toBeGreaterThan(0);
  });

  it('keeps reading a removed topic: its lag grows with every event, not frozen at the removal', {
    timeout: 90_000,
  }, async () => {
    const input = localTopicInput('refunds', {
      namespace: `127.0.0.1:${hubs.port}`,
      hub: 'orders',
      eventHubs: hubs.connectionString(),
      storage: azurite.connectionString,
    });
    const { id } = await createTopic(
      api.prisma,
      api.secrets,
      { ...input, source: { ...input.source, consumerGroup: 'refunds' } },
      { actor: 'system' },
    );
    await api.prisma.deployment.create({
      data: { topicId: id, target: 'local', phase: 'deleted', configVersion: 1, desiredReplicas: 0 },
    });
    const lag = async () => {
      await probeLag(api.prisma, api.secrets);
      const rows = await api.prisma.partitionState.findMany({ where: { topicId: id, partitionId: '0' } });
      return rows.map((p) => Number(p.lagEvents));
    };
    await send('0', 5);
    const before = await lag();
    expect(before).toHaveLength(1);
    await send('0', 7);
    expect(await lag()).toEqual([before[0]! + 7]);
  });
});
