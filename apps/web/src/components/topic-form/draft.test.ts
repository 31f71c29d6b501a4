import { SECRET_FIELDS, TopicConfig } from '@hubcap/shared';
import { configWithEverySecret } from '@hubcap/shared/testing';
import { get, type ResolverOptions } from 'react-hook-form';
import { describe, expect, it } from 'vitest';
import { countErrors, type Draft, draftResolver, NEW_TOPIC, newDestination, newFormat } from './draft.ts';

const options = { fields: {}, shouldUseNativeValidation: false } as ResolverOptions<Draft>;
const blank = (path: string) => {
  const draft: Record<string, unknown> = structuredClone(configWithEverySecret());
  const [parent, key] = [path.slice(0, path.lastIndexOf('.')), path.slice(path.lastIndexOf('.') + 1)];
  const node = parent
    .split('.')
    .reduce<Record<string, unknown>>((n, k) => n[k] as Record<string, unknown>, draft);
  node[key] = '';
  return draft as unknown as Draft;
};

describe('the topic form’s draft', () => {
  it('starts a new topic from the schema’s own defaults', () => {
    const filled = { ...NEW_TOPIC, topic: 'orders' };
    const parsed = TopicConfig.safeParse(filled);
    expect(new Set(parsed.error?.issues.map((i) => i.path.join('.')))).toEqual(
      new Set([
        'source.eventHubName',
        'source.auth.connectionString',
        'destination.account.connectionString',
        'destination.container',
      ]),
    );
    expect(NEW_TOPIC.batching).toEqual(TopicConfig.shape.batching.parse(undefined));
    expect(newDestination('azureBlob')).toMatchObject({
      checkpointContainer: 'hubcap-checkpoints',
      prefix: '',
    });
    expect(newFormat('avro')).toEqual({ type: 'avro', codec: 'deflate' });
  });

  it.each(SECRET_FIELDS)(
    'counts $path left blank as kept when a secret is stored, else as missing',
    async ({ path }) => {
      const draft = blank(path);
      const kept = await draftResolver([path])(draft, undefined, options);
      expect(kept).toEqual({ values: draft, errors: {} });
      const missing = await draftResolver([])(draft, undefined, options);
      expect(countErrors(missing.errors)).toBe(1);
      expect(JSON.stringify(missing.errors)).toContain('connection string is required');
    },
  );

  it('names each bad field once, with the schema’s message', async () => {
    const draft = { ...NEW_TOPIC, topic: 'Bad Name', batching: { maxAgeSeconds: 99_999 } };
    const { errors } = await draftResolver([])(draft, undefined, options);
    expect(errors.topic?.message).toMatch(/lower-case letters/);
    expect(errors.batching?.maxAgeSeconds?.message).toBe('must be between 1 and 3600');
    expect(countErrors(errors)).toBe(6);
  });
});

describe('the topic form’s draft, hostile', () => {
  it('turns hostile values into field errors, never a throw', async () => {
    const draft = {
      ...NEW_TOPIC,
      topic: 'a\u0000b',
      source: {
        ...NEW_TOPIC.source,
        eventHubName: '..',
        auth: { kind: 'connectionString', connectionString: 'x'.repeat(100_000) },
      },
      batching: { maxEvents: 2 ** 53 + 2, maxBytes: Number.NaN },
      scaling: 'lots',
    } as unknown as Draft;
    const { errors } = await draftResolver([])(draft, undefined, options);
    const at = (path: string) => (get(errors, path) as { message?: string } | undefined)?.message;
    expect(at('topic')).toMatch(/lower-case letters/);
    expect(at('source.eventHubName')).toMatch(/starting and ending with a letter or digit/);
    expect(at('source.auth.connectionString')).toBe('must be at most 2048 characters');
    expect(at('batching.maxEvents')).toBe('must be between 1 and 50000000');
    expect(at('batching.maxBytes')).toBe('must be a number');
    expect(at('scaling')).toBeDefined();
  });
});
