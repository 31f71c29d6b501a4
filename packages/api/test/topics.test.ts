import { describe, expect, it } from 'vitest';
import { issueAgentToken } from '../src/services/topics/topics.ts';
import { EH_SECRET, STORAGE_SECRET, topicConfig } from './fixtures.ts';
import { type Harness, harnessPerTest } from './harness.ts';

let api: Harness;
let editor: string;
harnessPerTest(async (started) => {
  api = started;
  editor = await api.signedIn('editor');
});

const SECRET_PARTS = ['EH-KEY-123', 'STORAGE-KEY-456', 'NEW-KEY-789'];
function expectNoSecret(body: unknown) {
  const text = JSON.stringify(body);
  for (const part of SECRET_PARTS) expect(text).not.toContain(part);
}

describe('onboarding: create and edit', () => {
  it('names every bad field of a config, and stores nothing', async () => {
    const res = await api.call(
      'topic.create',
      {
        config: {
          topic: 'Bad Name',
          source: {
            fullyQualifiedNamespace: '',
            eventHubName: 'x',
            auth: { kind: 'connectionString', connectionString: 'nope' },
          },
          destination: {
            kind: 'azureBlob',
            account: { kind: 'connectionString', connectionString: STORAGE_SECRET },
            container: 'A',
          },
          batching: { maxEvents: 0 },
        },
      },
      { cookie: editor },
    );
    expect(res.status).toBe(400);
    expect(res.body.error.data.fieldErrors).toMatchObject({
      topic: 'use lower-case letters, digits and dashes, starting and ending with a letter or digit',
      'source.fullyQualifiedNamespace': 'namespace is required',
      'source.auth.connectionString': expect.stringContaining('does not look like a connection string'),
      'destination.container': expect.stringContaining('3–63 lower-case'),
      'batching.maxEvents': 'must be between 1 and 50000000',
    });
    expect(await api.prisma.topic.count()).toBe(0);
    expect(await api.prisma.auditEvent.count({ where: { action: 'topic.create' } })).toBe(0);
  });

  it('creates version 1, then each edit makes a version with its diff and an audit event; secrets never come back', async () => {
    const responses: unknown[] = [];
    const call = async (path: string, input?: unknown) => {
      const res = await api.call(path, input, { cookie: editor });
      responses.push(res.body);
      return res;
    };
    expect((await call('topic.create', { config: topicConfig('orders') })).status).toBe(200);
    const dup = await call('topic.create', { config: topicConfig('orders') });
    expect(dup.body.error.data.fieldErrors).toEqual({ topic: 'a topic named "orders" already exists' });

    const form = (await call('topic.getConfig', { name: 'orders' })).body.result.data;
    expect(form.storedSecrets).toEqual([
      'source.auth.connectionString',
      'destination.account.connectionString',
    ]);
    expect(form.config.source.auth.connectionString).toBe('');

    // Blank secrets keep the stored ones; a changed batch size is the only change.
    const edited = structuredClone(form.config);
    edited.batching.maxEvents = 5000;
    const update = await call('topic.update', { name: 'orders', config: edited });
    expect(update.status).toBe(200);
    expect(update.body.result.data).toMatchObject({
      version: 2,
      changes: [{ path: 'batching.maxEvents', before: 1_000_000, after: 5000 }],
      secretsChanged: [],
    });

    // A new storage secret is named as changed, never shown.
    edited.destination.account.connectionString = STORAGE_SECRET.replace('STORAGE-KEY-456', 'NEW-KEY-789');
    const third = await call('topic.update', { name: 'orders', config: edited });
    expect(third.body.result.data).toMatchObject({
      version: 3,
      changes: [],
      secretsChanged: ['destination.account.connectionString'],
    });

    // Nothing changed: no new version.
    expect((await call('topic.update', { name: 'orders', config: edited })).body.result.data.unchanged).toBe(
      true,
    );
    // Renaming is refused next to the field.
    const renamed = await call('topic.update', { name: 'orders', config: { ...edited, topic: 'other' } });
    expect(renamed.body.error.data.fieldErrors.topic).toMatch(/cannot be renamed/);

    const versions = (await call('topic.listVersions', { name: 'orders' })).body.result.data;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    expect(versions[1].changes).toEqual([{ path: 'batching.maxEvents', before: 1_000_000, after: 5000 }]);
    expect(versions[0].secretsChanged).toEqual(['destination.account.connectionString']);

    const admin = await api.signedIn('admin');
    const audit = await api.call('audit.list', { targetType: 'topic' }, { cookie: admin });
    responses.push(audit.body);
    expect(audit.body.result.data.map((e: { action: string }) => e.action)).toEqual([
      'topic.update',
      'topic.update',
      'topic.create',
    ]);
    expect(audit.body.result.data[0].actorEmail).toMatch(/^editor\d+@example.com$/);
    for (const path of ['topic.list', 'settings.get', 'alert.list'])
      responses.push((await api.call(path, {}, { cookie: editor })).body);
    responses.push((await call('topic.get', { name: 'orders' })).body);

    for (const body of responses) expectNoSecret(body);
    // The deployed agent still gets the full config, with the kept Event Hubs secret and the new storage one.
    const topicId = (await api.prisma.topic.findUniqueOrThrow({ where: { slug: 'orders' } })).id;
    const { token } = await issueAgentToken(api.prisma, topicId, 'orders-local-v3', { configAccess: true });
    const agentConfig = (await api.call('agent.config', undefined, { token })).body.result.data;
    expect(agentConfig.version).toBe(3);
    expect(agentConfig.config.source.auth.connectionString).toBe(EH_SECRET);
    expect(agentConfig.config.destination.account.connectionString).toContain('NEW-KEY-789');
  });
});

describe('deleting a topic', () => {
  it('is refused while its agent is deployed; afterwards the topic and its history go, the audit log keeps its name', async () => {
    const call = (path: string, input: unknown) => api.call(path, input, { cookie: editor });
    expect((await call('topic.create', { config: topicConfig('orders') })).status).toBe(200);
    expect(
      (
        await call('topic.update', {
          name: 'orders',
          config: topicConfig('orders', { batching: { maxEvents: 10 } }),
        })
      ).status,
    ).toBe(200);
    const topic = await api.prisma.topic.findUniqueOrThrow({ where: { slug: 'orders' } });
    const admin = await api.signedIn('admin');
    await api.call('topic.createAgentToken', { name: 'orders', agentName: 'manual' }, { cookie: admin });
    const deployment = await api.prisma.deployment.create({
      data: { topicId: topic.id, target: 'local', phase: 'running', configVersion: 2, desiredReplicas: 1 },
    });

    const refused = await call('topic.delete', { name: 'orders' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe(
      'the agent of "orders" is deployed: remove it first (Remove in the Deployment panel)',
    );
    expect(await api.prisma.topic.count()).toBe(1);

    // Removed agents leave a deleted deployment record behind.
    await api.prisma.deployment.update({ where: { id: deployment.id }, data: { phase: 'deleted' } });
    expect((await call('topic.delete', { name: 'orders' })).status).toBe(200);
    expect(await api.prisma.topic.count()).toBe(0);
    expect(await api.prisma.topicConfigVersion.count()).toBe(0);
    expect(await api.prisma.secret.count()).toBe(0);
    expect(await api.prisma.agentInstance.count()).toBe(0);
    expect((await call('topic.get', { name: 'orders' })).status).toBe(404);
    expect((await call('topic.delete', { name: 'orders' })).status).toBe(404);

    // A new topic may take the name; the audit log tells both apart and filters by name.
    expect((await call('topic.create', { config: topicConfig('orders') })).status).toBe(200);
    expect((await call('topic.create', { config: topicConfig('payments') })).status).toBe(200);
    const audit = await api.call('audit.list', { topic: 'orders' }, { cookie: admin });
    expect(
      audit.body.result.data.map((e: { action: string; topicName: string }) => `${e.action} ${e.topicName}`),
    ).toEqual([
      'topic.create orders',
      'topic.delete orders',
      'agent.createToken orders',
      'topic.update orders',
      'topic.create orders',
    ]);
    const everything = await api.call('audit.list', { targetType: 'topic' }, { cookie: admin });
    expect(everything.body.result.data[0]).toMatchObject({ action: 'topic.create', topicName: 'payments' });
    expect((await api.call('audit.list', { topic: 'Bad Name' }, { cookie: admin })).status).toBe(400);
  });
});
