import { EventHubConsumerClient, latestEventPosition } from '@azure/event-hubs';
import { type Azurite, startAzurite } from '@hubcap/local-azurite';
import { type LocalEventHubs, startLocalEventHubs, startSampleTraffic } from '@hubcap/local-eventhubs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

let api: Harness;
let hubs: LocalEventHubs;
let azurite: Azurite;
let editor: string;

beforeAll(async () => {
  [api, hubs, azurite] = await Promise.all([
    startHarness(),
    startLocalEventHubs({ host: '127.0.0.1', port: 0, hubs: [{ name: 'clicks', partitionCount: 3 }] }),
    startAzurite(),
  ]);
  await startSampleTraffic({ connectionString: hubs.connectionString(), hub: 'clicks', count: 60 }).done;
  await azurite.container('lake');
  editor = await api.signedIn('editor');
}, 120_000);
afterAll(async () => {
  await Promise.all([api?.close(), hubs?.close(), azurite?.close()]);
});

const config = (overrides: { hub?: string; container?: string } = {}) => ({
  topic: 'clicks',
  source: {
    fullyQualifiedNamespace: `127.0.0.1:${hubs.port}`,
    eventHubName: overrides.hub ?? 'clicks',
    auth: { kind: 'connectionString', connectionString: hubs.connectionString() },
  },
  destination: {
    kind: 'azureBlob',
    account: { kind: 'connectionString', connectionString: azurite.connectionString },
    container: overrides.container ?? 'lake',
  },
});

describe('test connection and preview (local Event Hubs + Azurite)', () => {
  it('reads the partitions, opens a receiver in the consumer group, writes and deletes a probe blob', async () => {
    const res = await api.call('topic.testConnection', { config: config() }, { cookie: editor });
    expect(res.status).toBe(200);
    const result = res.body.result.data;
    expect(result.ok).toBe(true);
    expect(result.partitions.map((p: { partitionId: string }) => p.partitionId)).toEqual(['0', '1', '2']);
    expect(result.checks.map((c: { name: string; state: string }) => `${c.name}: ${c.state}`)).toEqual([
      'Event hub: ok',
      'Consumer group: ok',
      'Destination container: ok',
      'Checkpoint container: warn',
    ]);
    // The probe is gone again.
    const blobs = [];
    for await (const blob of (await azurite.container('lake')).listBlobsFlat()) blobs.push(blob.name);
    expect(blobs).toEqual([]);
    expect(JSON.stringify(res.body)).not.toContain('SharedAccessKey=');
    expect(JSON.stringify(res.body)).not.toContain('AccountKey=');
  });

  it('reports an unknown hub and a missing container plainly, without failing the request', async () => {
    const res = await api.call(
      'topic.testConnection',
      { config: config({ hub: 'nope', container: 'missing' }) },
      { cookie: editor },
    );
    const result = res.body.result.data;
    expect(result.ok).toBe(false);
    expect(result.checks[0]).toMatchObject({ name: 'Event hub', state: 'fail' });
    expect(result.checks[1]).toMatchObject({ name: 'Destination container', state: 'warn' });
  });

  it('previews the latest 20 events with the fields inferred from them', async () => {
    const res = await api.call('topic.preview', { config: config() }, { cookie: editor });
    expect(res.status).toBe(200);
    const { events, fields, partitions } = res.body.result.data;
    expect(partitions).toBe(3);
    expect(events).toHaveLength(20);
    const times = events.map((e: { enqueuedAt: string }) => e.enqueuedAt);
    expect([...times].sort().reverse()).toEqual(times);
    const json = events.find((e: { isJson: boolean }) => e.isJson);
    expect(JSON.parse(json.text)).toHaveProperty('requestId');
    const paths = fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['method', 'status', 'service.name', 'user.id']));
    expect(fields.find((f: { path: string }) => f.path === 'status').types).toEqual(['integer']);
  });

  it("on a running topic's edit page, its own agent holding the partitions is no failure; anyone else's is", async () => {
    // An owner-level receiver on partition 0, as an agent's load balancer opens.
    const reader = new EventHubConsumerClient('$Default', hubs.connectionString(), 'clicks');
    const subscription = reader.subscribe(
      '0',
      { processEvents: async () => {}, processError: async () => {} },
      { ownerLevel: 1, startPosition: latestEventPosition },
    );
    try {
      await new Promise((r) => setTimeout(r, 1000));
      const consumerGroupCheck = async (name?: string) => {
        const res = await api.call('topic.testConnection', { config: config(), name }, { cookie: editor });
        expect(res.status).toBe(200);
        const { ok, checks } = res.body.result.data;
        return { ok, check: checks.find((c: { name: string }) => c.name === 'Consumer group') };
      };
      expect(await consumerGroupCheck()).toEqual({
        ok: false,
        check: {
          name: 'Consumer group',
          state: 'fail',
          detail:
            'another reader holds partition 0 of "$Default" (an agent of another topic, or another application): give this topic a consumer group of its own',
        },
      });

      const created = await api.call('topic.create', { config: config() }, { cookie: editor });
      expect(created.status).toBe(200);
      // Saved but not deployed: whoever reads, it is not this topic's agent.
      expect((await consumerGroupCheck('clicks')).check.state).toBe('fail');
      const topic = await api.prisma.topic.findUniqueOrThrow({ where: { slug: 'clicks' } });
      await api.prisma.deployment.create({
        data: { topicId: topic.id, target: 'local', phase: 'running', configVersion: 1, desiredReplicas: 1 },
      });
      expect(await consumerGroupCheck('clicks')).toEqual({
        ok: true,
        check: {
          name: 'Consumer group',
          state: 'ok',
          detail: `"$Default" is being read by this topic's agent (it holds partition 0); the test left it undisturbed`,
        },
      });
    } finally {
      await subscription.close();
      await reader.close();
      await api.prisma.topic.deleteMany({ where: { slug: 'clicks' } });
    }
  });

  it('validates the draft before connecting, naming the fields', async () => {
    const res = await api.call(
      'topic.preview',
      { config: { ...config(), topic: 'Bad!' } },
      { cookie: editor },
    );
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.data.fieldErrors)).toEqual(['topic']);
  });
});
