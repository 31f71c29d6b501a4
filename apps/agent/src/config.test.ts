import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TopicConfig, type TopicConfigInput } from '@hubcap/shared';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';
import { readEnv } from './env.ts';

const good: TopicConfigInput = {
  topic: 'orders',
  source: {
    fullyQualifiedNamespace: 'ns.servicebus.windows.net',
    eventHubName: 'orders',
    auth: { kind: 'workloadIdentity' },
  },
  destination: { kind: 'localFolder', path: '/tmp/lake' },
};
/** What the control plane sends: the config parsed by the shared schema. */
const sent = (config: TopicConfigInput) => TopicConfig.parse(config);
const none = () => undefined;

describe('environment', () => {
  it('applies defaults and names each bad variable', () => {
    expect(readEnv({}).HUBCAP_HTTP_PORT).toBe(8080);
    expect(readEnv({}).HUBCAP_DRAIN_TIMEOUT_MS).toBe(25_000);
    expect(() => readEnv({ HUBCAP_HTTP_PORT: 'abc', HUBCAP_CREATE_CONTAINERS: 'yes' })).toThrow(
      /HUBCAP_HTTP_PORT: .*\n {2}- HUBCAP_CREATE_CONTAINERS: must be "true" or "false"/,
    );
  });
});

describe('config loading', () => {
  it('refuses endpoints outside Azure unless HUBCAP_ALLOWED_ENDPOINTS allows them', async () => {
    const local = {
      ...good,
      source: {
        fullyQualifiedNamespace: '127.0.0.1:5672',
        eventHubName: 'orders',
        auth: {
          kind: 'connectionString' as const,
          connectionString: 'Endpoint=sb://127.0.0.1:5672/;SharedAccessKey=k',
        },
      },
    };
    const env = (extra: Record<string, string> = {}) =>
      readEnv({ HUBCAP_CONFIG: JSON.stringify(local), ...extra });
    await expect(loadConfig(env(), none)).rejects.toThrow(
      /HUBCAP_CONFIG is refused:\n {2}- source.auth.connectionString: "127.0.0.1" is not an Event Hubs namespace in Azure/,
    );
    await expect(loadConfig(env({ HUBCAP_ALLOWED_ENDPOINTS: '127.0.0.1' }), none)).resolves.toMatchObject({
      source: 'HUBCAP_CONFIG',
    });
    // Managed identity tokens never go elsewhere, whatever is allowed.
    const identity = { ...good, source: { ...good.source, fullyQualifiedNamespace: 'metadata.internal' } };
    await expect(
      loadConfig(
        readEnv({ HUBCAP_CONFIG: JSON.stringify(identity), HUBCAP_ALLOWED_ENDPOINTS: '*.internal' }),
        none,
      ),
    ).rejects.toThrow(/managed identity tokens are only sent to Azure endpoints/);
  });

  it('reads HUBCAP_CONFIG and fills defaults', async () => {
    const { config, source } = await loadConfig(readEnv({ HUBCAP_CONFIG: JSON.stringify(good) }), none);
    expect(source).toBe('HUBCAP_CONFIG');
    expect(config.format).toEqual({ type: 'ndjson', compression: 'gzip' });
  });

  it('reads a config file and lists every problem on its own line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hubcap-config-'));
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ ...good, topic: 'Bad Name', batching: { maxEvents: 0 } }));
    const error = await loadConfig(readEnv({ HUBCAP_CONFIG_FILE: file }), none).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      `config file ${file} is invalid:\n` +
        '  - topic: use lower-case letters, digits and dashes, starting and ending with a letter or digit\n' +
        '  - batching.maxEvents: must be between 1 and 50000000',
    );
  });

  it('accepts Parquet (zstd by default)', async () => {
    const { config } = await loadConfig(
      readEnv({ HUBCAP_CONFIG: JSON.stringify({ ...good, format: { type: 'parquet' } }) }),
      none,
    );
    expect(config.format).toEqual({ type: 'parquet', compression: 'zstd' });
  });

  it('explains invalid JSON and a missing configuration', async () => {
    await expect(loadConfig(readEnv({ HUBCAP_CONFIG: '{nope' }), none)).rejects.toThrow(
      /HUBCAP_CONFIG is not valid JSON/,
    );
    await expect(loadConfig(readEnv({}), none)).rejects.toThrow(
      /no configuration: set HUBCAP_CONTROL_PLANE_URL and HUBCAP_AGENT_TOKEN \(the control plane\), or HUBCAP_CONFIG_FILE/,
    );
  });

  it('fetches the config from the control plane', async () => {
    const client = {
      report: async () => ({ configVersion: 3 }),
      fetchConfig: async () => ({ version: 3, config: sent(good) }),
    };
    const loaded = await loadConfig(
      readEnv({ HUBCAP_CONTROL_PLANE_URL: 'http://cp:3000', HUBCAP_AGENT_TOKEN: 't' }),
      () => client,
    );
    expect(loaded.version).toBe(3);
    expect(loaded.config.topic).toBe('orders');
  });

  it('waits for a control plane that is not up yet instead of exiting, and stops at a refused token', async () => {
    let calls = 0;
    const flaky = {
      report: async () => ({ configVersion: 1 }),
      fetchConfig: async () => {
        if (++calls < 3) throw new Error('fetch failed (ECONNREFUSED)');
        return { version: 1, config: sent(good) };
      },
    };
    const env = readEnv({ HUBCAP_CONTROL_PLANE_URL: 'http://cp:3000', HUBCAP_AGENT_TOKEN: 't' });
    const retries: number[] = [];
    const loaded = await loadConfig(env, () => flaky, {
      baseMs: 5,
      onRetry: (_e, attempt) => retries.push(attempt),
    });
    expect(loaded.version).toBe(1);
    expect(retries).toEqual([0, 1]);

    const refused = {
      ...flaky,
      fetchConfig: async () => {
        throw Object.assign(new Error('a valid agent token is required'), { data: { httpStatus: 401 } });
      },
    };
    await expect(
      loadConfig(env, () => refused, { baseMs: 5, onRetry: () => retries.push(-1) }),
    ).rejects.toThrow(/cannot fetch the config from the control plane: a valid agent token is required/);
    expect(retries).toEqual([0, 1]);
  });

  it('takes the control plane’s config over a file or HUBCAP_CONFIG: one delivery path when there is one', async () => {
    const client = {
      report: async () => ({ configVersion: 7 }),
      fetchConfig: async () => ({ version: 7, config: sent({ ...good, batching: { maxEvents: 10 } }) }),
    };
    const loaded = await loadConfig(
      readEnv({
        HUBCAP_CONTROL_PLANE_URL: 'http://cp:3000',
        HUBCAP_AGENT_TOKEN: 't',
        HUBCAP_CONFIG: JSON.stringify(good),
        HUBCAP_CONFIG_FILE: '/nonexistent/config.json',
      }),
      () => client,
    );
    expect(loaded).toMatchObject({ version: 7, source: 'config from http://cp:3000' });
    expect(loaded.config.batching.maxEvents).toBe(10);
  });

  it('uses its file when the control plane refuses its token the config (a hand-run agent that only reports)', async () => {
    const refused = Object.assign(new Error('this agent token may only report'), {
      data: { httpStatus: 403 },
    });
    const client = {
      report: async () => ({ configVersion: 7 }),
      fetchConfig: async () => {
        throw refused;
      },
    };
    const env = { HUBCAP_CONTROL_PLANE_URL: 'http://cp:3000', HUBCAP_AGENT_TOKEN: 't' };
    const loaded = await loadConfig(readEnv({ ...env, HUBCAP_CONFIG: JSON.stringify(good) }), () => client);
    expect(loaded).toMatchObject({ version: undefined, source: 'HUBCAP_CONFIG' });
    await expect(loadConfig(readEnv(env), () => client)).rejects.toThrow(/may only report/);
  });
});
