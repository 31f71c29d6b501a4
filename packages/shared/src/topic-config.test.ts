import { describe, expect, it } from 'vitest';
import { workloadTopicInput } from './testing.ts';
import { TopicConfig } from './topic-config.ts';
import { describeIssues, parseOrThrow, ValidationError } from './validation.ts';

const minimal = workloadTopicInput('orders', {
  accountUrl: 'https://contosolake.blob.core.windows.net',
  container: 'raw',
});

function problems(input: unknown): string[] {
  const result = TopicConfig.safeParse(input);
  return result.success ? [] : describeIssues(result.error);
}

describe('TopicConfig', () => {
  it('fills every default from a minimal document', () => {
    const config = TopicConfig.parse(minimal);
    expect(config.source.consumerGroup).toBe('$Default');
    expect(config.source.startPosition).toBe('earliest');
    expect(config.format).toEqual({ type: 'ndjson', compression: 'gzip' });
    expect(config.batching).toEqual({
      maxBytes: 128 * 1024 * 1024,
      maxEvents: 1_000_000,
      maxAgeSeconds: 300,
    });
    expect(config.scaling).toEqual({ replicas: 1, cpu: '1', memory: '512Mi' });
    expect(config.pathTemplate).toBe('{namespace}/{hub}/{partition}/{yyyy}/{MM}/{dd}/{HH}/{mm}/{ss}');
    expect(config.destination.kind === 'azureBlob' && config.destination.checkpointContainer).toBe(
      'hubcap-checkpoints',
    );
  });

  it('names each bad field and says what is wrong', () => {
    expect(
      problems({
        ...minimal,
        topic: 'Orders EU',
        source: { ...minimal.source, eventHubName: ' ', auth: { kind: 'password' } },
        destination: { ...minimal.destination, container: 'Raw_Data' },
        pathTemplate: '{hub}/{day}',
        batching: { maxBytes: 10, maxEvents: 1.5 },
        scaling: { memory: 'lots' },
      }),
    ).toEqual([
      'topic: use lower-case letters, digits and dashes, starting and ending with a letter or digit',
      'source.eventHubName: event hub name is required',
      'source.auth.kind: must be "connectionString" or "workloadIdentity"',
      'destination.container: must be 3–63 lower-case letters, digits and single dashes (Azure container naming rules)',
      'pathTemplate: unknown variable {day}; use one of {namespace}, {hub}, {topic}, {partition}, {yyyy}, {MM}, {dd}, {HH}, {mm}, {ss}',
      'batching.maxBytes: must be between 1048576 (1 MiB) and 4294967296 (4 GiB)',
      'batching.maxEvents: must be a whole number',
      'scaling.memory: must be a memory quantity such as "256Mi" or "1Gi"',
    ]);
  });

  it('refuses CPU and memory no replica can run with: zero, too little, more than a node has', () => {
    const scaling = (cpu: string, memory: string) => problems({ ...minimal, scaling: { cpu, memory } });
    expect(scaling('0', '0')).toEqual([
      'scaling.cpu: must be more than 0, such as "250m"',
      'scaling.memory: must be at least 64Mi',
    ]);
    expect(scaling('0m', '1Mi')).toEqual([
      'scaling.cpu: must be more than 0, such as "250m"',
      'scaling.memory: must be at least 64Mi',
    ]);
    expect(scaling('0.0001', '999999Gi')).toEqual([
      'scaling.cpu: must be more than 0, such as "250m"',
      'scaling.memory: must be at most 1Ti',
    ]);
    expect(scaling('999999', '2Ti')).toEqual([
      'scaling.cpu: must be at most 256 cores',
      'scaling.memory: must be at most 1Ti',
    ]);
    expect(scaling('1m', '64Mi')).toEqual([]);
    expect(scaling('256', '1Ti')).toEqual([]);
  });

  it('tells numbers past the range (20 digits, past 2^31 and 2^53) the range, not "whole number"', () => {
    expect(
      problems({
        ...minimal,
        batching: {
          maxBytes: Number('12345678901234567890'),
          maxEvents: 2 ** 31,
          maxAgeSeconds: 2 ** 53 + 2,
        },
        scaling: { replicas: -1 },
        reporting: { intervalSeconds: 1e300 },
      }),
    ).toEqual([
      'batching.maxBytes: must be between 1048576 (1 MiB) and 4294967296 (4 GiB)',
      'batching.maxEvents: must be between 1 and 50000000',
      'batching.maxAgeSeconds: must be between 1 and 3600',
      'scaling.replicas: must be between 0 and 32',
      'reporting.intervalSeconds: must be between 1 and 300',
    ]);
    expect(problems({ ...minimal, batching: { maxAgeSeconds: 2.5 } })).toEqual([
      'batching.maxAgeSeconds: must be a whole number',
    ]);
  });

  it('takes an optional schema registry for Parquet, with plain errors', () => {
    const registry = { fullyQualifiedNamespace: 'contoso.servicebus.windows.net', groupName: 'orders' };
    expect(
      TopicConfig.parse({ ...minimal, format: { type: 'parquet', schemaRegistry: registry } }).format,
    ).toEqual({
      type: 'parquet',
      compression: 'zstd',
      schemaRegistry: registry,
    });
    expect(
      problems({
        ...minimal,
        format: {
          type: 'parquet',
          schemaRegistry: { fullyQualifiedNamespace: 'https://x', groupName: '', clientId: 'me', key: 1 },
        },
      }),
    ).toEqual([
      'format.schemaRegistry.fullyQualifiedNamespace: must be a host name such as myns.servicebus.windows.net',
      'format.schemaRegistry.groupName: schema group is required when set',
      'format.schemaRegistry.clientId: must be a GUID',
      'format.schemaRegistry.key: is not a known field',
    ]);
    expect(problems({ ...minimal, format: { type: 'ndjson', schemaRegistry: registry } })).toEqual([
      'format.schemaRegistry: is not a known field',
    ]);
  });

  it('takes a topic marker path without {partition}, "..", absolute or empty segments', () => {
    const marker = (markerPath: string) =>
      TopicConfig.safeParse({ ...minimal, completeness: { markerPath } }).error?.issues.map(
        (i) => i.message,
      ) ?? [];
    expect(marker('markers/{hub}/{yyyy}-{MM}-{dd}T{HH}/_SUCCESS')).toEqual([]);
    expect(marker('{partition}/_SUCCESS')).toEqual(['is one file per topic: it must not use {partition}']);
    expect(marker('../_SUCCESS')).toEqual(['must not contain "." or ".." path segments']);
    expect(marker('/abs/_SUCCESS')).toContain('must not start or end with "/"');
    expect(marker('')).toEqual(['must not be empty']);
    expect(marker('a\u0000b')).toEqual([
      'may contain only letters, digits, "=", ".", "_", "-" and "/" outside variables',
    ]);
    expect(TopicConfig.parse(minimal).completeness).toEqual({});
  });

  it('rejects unknown fields instead of ignoring a typo', () => {
    expect(problems({ ...minimal, batching: { maxevents: 10 } })).toEqual([
      'batching.maxevents: is not a known field',
    ]);
  });

  it('rejects a connection string that is not one', () => {
    expect(
      problems({
        ...minimal,
        source: { ...minimal.source, auth: { kind: 'connectionString', connectionString: 'abc' } },
      }),
    ).toEqual([
      'source.auth.connectionString: does not look like a connection string (expected "Endpoint=…" or "AccountName=…" parts)',
    ]);
  });

  it('takes the namespace from the connection string, whatever the namespace field says', () => {
    const auth = (connectionString: string) => ({ kind: 'connectionString', connectionString });
    const parse = (source: Record<string, unknown>) =>
      TopicConfig.parse({ ...minimal, source: { eventHubName: 'orders', ...source } }).source;
    expect(
      parse({
        auth: auth('Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=v'),
      }).fullyQualifiedNamespace,
    ).toBe('contoso.servicebus.windows.net');
    expect(
      parse({
        fullyQualifiedNamespace: 'stale.servicebus.windows.net',
        auth: auth(
          'SharedAccessKeyName=k; Endpoint = sb://127.0.0.1:5673;SharedAccessKey=v;UseDevelopmentEmulator=true',
        ),
      }).fullyQualifiedNamespace,
    ).toBe('127.0.0.1:5673');
    // Workload identity has no connection string: the field is the only source.
    expect(
      parse({ fullyQualifiedNamespace: 'wi.servicebus.windows.net', auth: { kind: 'workloadIdentity' } }),
    ).toMatchObject({ fullyQualifiedNamespace: 'wi.servicebus.windows.net' });
    expect(
      problems({ ...minimal, source: { eventHubName: 'orders', auth: { kind: 'workloadIdentity' } } }),
    ).toEqual(['source.fullyQualifiedNamespace: namespace is required']);
    for (const bad of [
      'AccountName=x;AccountKey=y',
      'Endpoint=https://x/;SharedAccessKey=v',
      'Endpoint=sb://a b/',
    ]) {
      expect(problems({ ...minimal, source: { eventHubName: 'orders', auth: auth(bad) } })).toEqual([
        'source.auth.connectionString: must name the namespace: Endpoint=sb://<namespace>/;…',
      ]);
    }
  });

  it('parseOrThrow lists every problem in its message', () => {
    expect(() => parseOrThrow(TopicConfig, { topic: 'x' }, 'config file hubcap.json')).toThrow(
      ValidationError,
    );
    try {
      parseOrThrow(TopicConfig, { topic: 'x' }, 'config file hubcap.json');
    } catch (error) {
      expect((error as ValidationError).message).toMatch(
        /^config file hubcap\.json is invalid:\n {2}- source: /,
      );
      expect((error as ValidationError).problems).toContain(
        'destination: must be "azureBlob" or "localFolder"',
      );
    }
  });
});
