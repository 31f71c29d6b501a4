import { getPath, SEALED, SECRET_FIELDS } from '@hubcap/shared';
import { configWithEverySecret, SECRET_VALUES } from '@hubcap/shared/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issueAgentToken } from '../src/services/topics/topics.ts';
import { type Harness, startHarness } from './harness.ts';

/** Every declared secret field, whatever it is: adding one to @hubcap/shared extends these checks. */
describe.each(SECRET_FIELDS)('the secret $path', ({ path }) => {
  const secret = SECRET_VALUES[path];
  let api: Harness;
  let editor: string;
  beforeEach(async () => {
    api = await startHarness();
    editor = await api.signedIn('editor');
    const created = await api.call(
      'topic.create',
      { config: configWithEverySecret('vault') },
      { cookie: editor },
    );
    expect(created.status).toBe(200);
  });
  afterEach(() => api.close());

  it('is sealed at rest: the stored version holds a marker, the Secret row no plain text', async () => {
    const [version] = await api.prisma.topicConfigVersion.findMany();
    expect(getPath(version!.config as Record<string, unknown>, path)).toBe(SEALED);
    const row = await api.prisma.secret.findFirstOrThrow({ where: { name: path } });
    expect(Buffer.from(row.ciphertext).toString('utf8')).not.toContain(secret);
  });

  it('is never returned to people, and blank in the edit form', async () => {
    const bodies = [];
    for (const [procedure, input] of [
      ['topic.get', { name: 'vault' }],
      ['topic.list', {}],
      ['topic.listVersions', { name: 'vault' }],
      ['deployment.exportManifests', { topic: 'vault' }],
    ] as const) {
      const res = await api.call(procedure, input, { cookie: editor });
      expect(res.status, procedure).toBe(200);
      bodies.push(res.body);
    }
    const form = (await api.call('topic.getConfig', { name: 'vault' }, { cookie: editor })).body.result.data;
    expect(getPath(form.config, path)).toBe('');
    expect(form.storedSecrets).toContain(path);
    for (const body of [...bodies, form]) expect(JSON.stringify(body)).not.toContain(secret);
    expect(bodies[3].result.data.yaml).toContain('REDACTED');
  });

  it('is kept when the form sends it blank, and opened only for the deployer’s agent', async () => {
    const form = (await api.call('topic.getConfig', { name: 'vault' }, { cookie: editor })).body.result.data;
    const saved = await api.call('topic.update', { name: 'vault', config: form.config }, { cookie: editor });
    expect(saved.body.result.data).toMatchObject({ unchanged: true, secretsChanged: [] });
    const topicId = (await api.prisma.topic.findUniqueOrThrow({ where: { slug: 'vault' } })).id;
    const { token } = await issueAgentToken(api.prisma, topicId, 'vault-0', { configAccess: true });
    const agent = (await api.call('agent.config', undefined, { token })).body.result.data;
    expect(getPath(agent.config, path)).toBe(secret);
  });
});
