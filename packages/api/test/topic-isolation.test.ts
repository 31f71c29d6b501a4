import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EH_SECRET, topicConfig } from './fixtures.ts';
import { type Harness, startHarness } from './harness.ts';

let api: Harness;
let editor: string;
beforeEach(async () => {
  api = await startHarness();
  editor = await api.signedIn('editor');
  expect((await api.call('topic.create', { config: topicConfig('orders') }, { cookie: editor })).status).toBe(
    200,
  );
});
afterEach(() => api.close());

const source = (over: Record<string, unknown>) => ({
  fullyQualifiedNamespace: 'contoso.servicebus.windows.net',
  eventHubName: 'orders',
  auth: { kind: 'connectionString', connectionString: EH_SECRET },
  ...over,
});
const TAKEN =
  'topic "orders" already reads event hub "orders" with consumer group "$Default"; two topics in one group take each other\'s partitions, so give this topic its own consumer group';

describe('one (namespace, event hub, consumer group) per topic', () => {
  it('refuses a second topic on the same hub and group with a field error naming the first, however it is spelt', async () => {
    const spellings = [
      source({}),
      source({
        fullyQualifiedNamespace: 'CONTOSO.servicebus.windows.net',
        eventHubName: 'Orders',
        consumerGroup: '$DEFAULT',
      }),
      // The connection string's endpoint and EntityPath are what the SDK reads, whatever the fields say.
      source({
        fullyQualifiedNamespace: 'elsewhere.servicebus.windows.net',
        eventHubName: 'clicks',
        auth: { kind: 'connectionString', connectionString: `${EH_SECRET};EntityPath=orders` },
      }),
    ];
    for (const s of spellings) {
      const res = await api.call(
        'topic.create',
        { config: topicConfig('audit', { source: s as never }) },
        { cookie: editor },
      );
      expect(res.status).toBe(400);
      expect(res.body.error.data.fieldErrors).toEqual({
        'source.consumerGroup': TAKEN.replace(
          '"$Default"',
          `"${(s as { consumerGroup?: string }).consumerGroup ?? '$Default'}"`,
        ).replace('event hub "orders"', `event hub "${s.eventHubName}"`),
      });
    }
    expect(await api.prisma.topic.count()).toBe(1);

    const own = await api.call(
      'topic.create',
      { config: topicConfig('audit', { source: source({ consumerGroup: 'audit' }) as never }) },
      { cookie: editor },
    );
    expect(own.status).toBe(200);
  });

  it('refuses an edit that moves a topic onto another topic’s group, and the form hears it before saving', async () => {
    const clicks = topicConfig('clicks');
    await api.call('topic.create', { config: clicks }, { cookie: editor });
    const moved = {
      ...clicks,
      source: {
        ...clicks.source,
        eventHubName: 'orders',
        auth: { kind: 'connectionString', connectionString: '' },
      },
    };
    const check = await api.call('topic.sourceInUse', { config: moved, name: 'clicks' }, { cookie: editor });
    expect(check.body.result.data).toEqual({ topic: 'orders', message: TAKEN });
    const res = await api.call('topic.update', { name: 'clicks', config: moved }, { cookie: editor });
    expect(res.status).toBe(400);
    expect(res.body.error.data.fieldErrors).toEqual({ 'source.consumerGroup': TAKEN });
    // Its own source is no conflict for a topic; an incomplete draft is none either.
    expect(
      (
        await api.call(
          'topic.sourceInUse',
          { config: topicConfig('orders'), name: 'orders' },
          { cookie: editor },
        )
      ).body.result.data,
    ).toBeNull();
    expect(
      (
        await api.call(
          'topic.sourceInUse',
          { config: { source: { eventHubName: 'orders' } } },
          { cookie: editor },
        )
      ).body.result.data,
    ).toBeNull();
    expect(
      (await api.call('topic.sourceInUse', { config: { source: 'x'.repeat(10_000) } }, { cookie: editor }))
        .body.result.data,
    ).toBeNull();
  });

  it('lets only one of two concurrent creates on one source through', async () => {
    const results = await Promise.all(
      ['a-one', 'a-two', 'a-three'].map((name) =>
        api.call(
          'topic.create',
          { config: topicConfig(name, { source: source({ eventHubName: 'race' }) as never }) },
          { cookie: editor },
        ),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400]);
  });

  it('shows topics that already share a source (saved before the check) as failing, each naming the other', async () => {
    await api.call(
      'topic.create',
      { config: topicConfig('audit', { source: source({ consumerGroup: 'audit' }) as never }) },
      { cookie: editor },
    );
    // As rows saved before this check existed: both read orders with $Default.
    await api.prisma.topic.update({
      where: { slug: 'audit' },
      data: { sourceKey: 'contoso.servicebus.windows.net/orders/$default' },
    });
    for (const slug of ['orders', 'audit']) {
      const topic = await api.prisma.topic.findUniqueOrThrow({ where: { slug } });
      await api.prisma.deployment.create({
        data: {
          topicId: topic.id,
          target: 'local',
          phase: 'running',
          configVersion: 1,
          desiredReplicas: 1,
          readyReplicas: 1,
        },
      });
    }
    const viewer = await api.signedIn('viewer');
    const list = (await api.call('topic.list', undefined, { cookie: viewer })).body.result.data;
    const byName = Object.fromEntries(list.topics.map((t: { name: string }) => [t.name, t]));
    expect(byName.orders).toMatchObject({ status: 'failing', sourceSharedWith: 'audit' });
    expect(byName.audit).toMatchObject({ status: 'failing', sourceSharedWith: 'orders' });
    expect(byName.orders.statusReason).toMatch(
      /topic "audit" reads the same event hub with the same consumer group/,
    );
    // Such a topic can still be edited in other ways; moving it to its own group clears both.
    const audit = topicConfig('audit', { source: source({ consumerGroup: 'audit' }) as never });
    expect(
      (await api.call('topic.update', { name: 'audit', config: audit }, { cookie: editor })).status,
    ).toBe(200);
    const after = (await api.call('topic.list', undefined, { cookie: viewer })).body.result.data;
    expect(after.topics.map((t: { sourceSharedWith: string | null }) => t.sourceSharedWith)).toEqual([
      null,
      null,
    ]);
  });
});
