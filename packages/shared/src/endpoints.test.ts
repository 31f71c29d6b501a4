import { describe, expect, it } from 'vitest';
import { endpointProblem, hostAndPort, storageHost, topicEndpointProblems } from './endpoints.ts';
import { unsafePathProblem } from './path-template.ts';
import { TopicConfig } from './topic-config.ts';

const eventHubs = (host: string, carriesToken = false) =>
  ({ kind: 'eventHubs', field: 'f', host, port: null, carriesToken }) as const;

describe('endpoint allowlist', () => {
  it('accepts the Azure suffixes of every cloud, and nothing that merely ends like them', () => {
    for (const host of [
      'ns.servicebus.windows.net',
      'NS.ServiceBus.Windows.Net',
      'ns.servicebus.chinacloudapi.cn',
      'ns.servicebus.usgovcloudapi.net',
    ]) {
      expect(endpointProblem(eventHubs(host, true), []), host).toBeNull();
    }
    for (const host of [
      'servicebus.windows.net',
      'evilservicebus.windows.net',
      'ns.servicebus.windows.net.evil.com',
      '127.0.0.1',
      'ns.blob.core.windows.net',
    ]) {
      expect(endpointProblem(eventHubs(host), []), host).not.toBeNull();
    }
  });

  it('lets an operator allow a host, host:port or *.suffix, but never for managed-identity tokens', () => {
    expect(endpointProblem({ ...eventHubs('127.0.0.1'), port: 5672 }, ['127.0.0.1:5672'])).toBeNull();
    expect(endpointProblem({ ...eventHubs('127.0.0.1'), port: 5673 }, ['127.0.0.1:5672'])).not.toBeNull();
    expect(endpointProblem(eventHubs('hubs.corp.example'), ['*.corp.example'])).toBeNull();
    expect(endpointProblem(eventHubs('corp.example'), ['*.corp.example'])).not.toBeNull();
    expect(endpointProblem(eventHubs('hubs.corp.example', true), ['*.corp.example'])).toMatch(
      /managed identity/,
    );
  });

  it('finds where connection strings point', () => {
    expect(storageHost('DefaultEndpointsProtocol=https;AccountName=Lake;AccountKey=k')?.host).toBe(
      'lake.blob.core.windows.net',
    );
    expect(storageHost('AccountName=lake;AccountKey=k;EndpointSuffix=core.chinacloudapi.cn')?.host).toBe(
      'lake.blob.core.chinacloudapi.cn',
    );
    expect(storageHost('BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;AccountName=x')).toEqual({
      host: '127.0.0.1',
      port: 10000,
    });
    expect(storageHost('UseDevelopmentStorage=true')).toEqual({ host: '127.0.0.1', port: 10000 });
    expect(hostAndPort('[::1]:5672')).toEqual({ host: '::1', port: 5672 });
  });

  it('checks the connection string’s endpoint, not only the namespace field', () => {
    const config = TopicConfig.parse({
      topic: 't',
      source: {
        fullyQualifiedNamespace: 'ns.servicebus.windows.net',
        eventHubName: 'h',
        auth: {
          kind: 'connectionString',
          connectionString: 'Endpoint=sb://10.0.0.1:5671/;SharedAccessKey=k',
        },
      },
      destination: { kind: 'localFolder', path: '/tmp/x' },
    });
    expect(topicEndpointProblems(config, []).map((p) => p.field)).toEqual(['source.auth.connectionString']);
  });
});

describe('unsafePathProblem', () => {
  it('refuses names that could leave the destination', () => {
    for (const path of [
      '',
      '../x',
      'a/../../x',
      'a/./b',
      '/abs',
      'a//b',
      '\\\\server\\x',
      'C:/x',
      'a\0b',
      'a/..',
    ]) {
      expect(unsafePathProblem(path), JSON.stringify(path)).not.toBeNull();
    }
    for (const path of ['a/b/0-1-2.ndjson.gz', 'topic=x/date=2026-01-01/0.avro', 'a..b/c']) {
      expect(unsafePathProblem(path), path).toBeNull();
    }
  });
});
