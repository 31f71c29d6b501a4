import { createServer, type Server } from 'node:net';
import { workloadTopicInput } from '@hubcap/shared/testing';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneSessions } from '../src/auth/sessions.ts';
import { DEFAULT_POLICY } from '../src/context.ts';
import { MAX_AGENT_BODY_BYTES, MAX_BATCH_SIZE, MAX_BODY_BYTES } from '../src/http.ts';
import { isForbiddenAddress, webhookPoster } from '../src/services/telemetry/webhook.ts';
import { createTopic, issueAgentToken } from '../src/services/topics/topics.ts';
import { publicProcedure, router } from '../src/trpc.ts';
import { agentReport, settingsInput, topicConfig } from './fixtures.ts';
import { type Harness, LOCAL_POLICY, startHarness } from './harness.ts';

/**
 * The API attacked the ways a review found open: floods, oversized and batched requests, secrets
 * through agent tokens, server-side requests to local listeners, traversal, cross-site requests,
 * values too large for the database. Each case must be refused or bounded, never a 500.
 */

let api: Harness;
/** Same database-less services, but the policy a production server has by default. */
let strict: Harness;
let listener: Server;
let listenerPort: number;
let connections = 0;

beforeAll(async () => {
  [api, strict] = await Promise.all([startHarness(), startHarness({ policy: DEFAULT_POLICY })]);
  listener = createServer((socket) => {
    connections++;
    socket.end('SECRET-BANNER from an internal service\r\n');
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  listenerPort = (listener.address() as { port: number }).port;
}, 60_000);
afterAll(async () => {
  listener?.close();
  await Promise.all([api?.close(), strict?.close()]);
});

const json = { 'content-type': 'application/json' };

describe('request limits', () => {
  it('refuses a body over the limit without reading it whole, declared or streamed', async () => {
    const big = 'x'.repeat(MAX_BODY_BYTES + 1);
    const declared = await api.fetch('auth.signIn', { method: 'POST', headers: json, body: big });
    expect(declared.status).toBe(413);

    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        // 64 MiB offered in 1 MiB chunks; the server must stop long before the end.
        if (sent >= 64) return controller.close();
        sent++;
        controller.enqueue(new Uint8Array(1024 * 1024));
      },
    });
    const streamed = await api.fetch('auth.signIn', {
      method: 'POST',
      headers: json,
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(sent).toBeLessThan(8);

    const agentBig = await api.fetch('agent.report', {
      method: 'POST',
      headers: json,
      body: 'x'.repeat(MAX_AGENT_BODY_BYTES + 1),
    });
    expect(agentBig.status).toBe(413);
  });

  it('accepts an agent report for 1024 partitions (well within the agent limit)', async () => {
    const { id } = await createTopic(api.prisma, api.secrets, topicConfig('big'), { actor: 'system' });
    const { token } = await issueAgentToken(api.prisma, id, 'big-0');
    const partitions = Array.from({ length: 1024 }, (_, i) => ({
      ...agentReport('big').partitions[0]!,
      partitionId: String(i),
    }));
    const res = await api.call('agent.report', agentReport('big', { partitions }), { token });
    expect(res.status).toBe(200);
  });

  it('refuses batches longer than the limit, and any batch holding a sign-in', async () => {
    const paths = Array.from({ length: MAX_BATCH_SIZE + 1 }, () => 'auth.me').join(',');
    const long = await api.fetch(`${paths}?batch=1&input=${encodeURIComponent('{}')}`);
    expect(long.status).toBe(400);

    expect((await api.fetch('auth.me%E0%A4%A')).status).toBe(400);

    const signIns = Array.from({ length: 2 }, () => 'auth.signIn').join(',');
    const input = { email: 'a@example.com', password: 'x' };
    const batched = await api.fetch(`${signIns}?batch=1`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ 0: input, 1: input }),
    });
    expect(batched.status).toBe(400);
    expect(((await batched.json()) as { error: { message: string } }).error.message).toMatch(
      /cannot be batched/,
    );
  });
});

describe('sign-in', () => {
  it('backs off an address guessing an account (429 + Retry-After) without locking the owner out', async () => {
    const cookie = await api.signedIn('viewer');
    const email = (await api.prisma.user.findFirstOrThrow({ where: { role: 'viewer' } })).email;
    const from = (address: string, password: string) =>
      api.call('auth.signIn', { email, password }, { headers: { 'x-forwarded-for': address } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await from('203.0.113.7', 'guess')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const refused = await from('203.0.113.7', 'correct horse battery');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // The owner, from elsewhere, still gets in at once.
    expect((await from('198.51.100.2', 'correct horse battery')).status).toBe(200);
    expect(cookie).toBeTruthy();
  });

  it('bounds concurrent password hashing: a flood is answered 503 + Retry-After, and a real sign-in still works', async () => {
    await api.signedIn('editor');
    const email = (await api.prisma.user.findFirstOrThrow({ where: { role: 'editor' } })).email;
    const flood = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        api.call(
          'auth.signIn',
          { email: `nobody${i}@example.com`, password: 'x' },
          { headers: { 'x-forwarded-for': `192.0.2.${i}` } },
        ),
      ),
    );
    const statuses = flood.map((r) => r.status);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 401 || s === 503)).toBe(true);
    expect(flood.find((r) => r.status === 503)!.headers.get('retry-after')).toBe('1');
    const real = await api.call('auth.signIn', { email, password: 'correct horse battery' });
    expect(real.status).toBe(200);
    // Eighteen hashes, two at a time: slow on a busy machine.
  }, 120_000);
});

describe('secrets through agent tokens', () => {
  it('lets only admins mint tokens, and a minted token reports but never reads the config', async () => {
    const { id } = await createTopic(api.prisma, api.secrets, topicConfig('minted'), { actor: 'system' });
    const editor = await api.signedIn('editor');
    const admin = await api.signedIn('admin');
    const byEditor = await api.call(
      'topic.createAgentToken',
      { name: 'minted', agentName: 'x' },
      { cookie: editor },
    );
    expect(byEditor.status).toBe(403);
    const byAdmin = await api.call(
      'topic.createAgentToken',
      { name: 'minted', agentName: 'x' },
      { cookie: admin },
    );
    expect(byAdmin.status).toBe(200);
    const { token } = byAdmin.body.result.data;

    const config = await api.call('agent.config', undefined, { token });
    expect(config.status).toBe(403);
    expect(JSON.stringify(config.body)).not.toMatch(/SharedAccessKey=|AccountKey=/);
    expect((await api.call('agent.report', agentReport('minted'), { token })).status).toBe(200);

    const deployed = await issueAgentToken(api.prisma, id, 'minted-local-v1', { configAccess: true });
    expect((await api.call('agent.config', undefined, { token: deployed.token })).status).toBe(200);
  });
});

describe('server-side requests', () => {
  const local = (overrides: Record<string, unknown> = {}) => ({
    topic: 'probe',
    source: {
      fullyQualifiedNamespace: `127.0.0.1:${listenerPort}`,
      eventHubName: 'probe',
      auth: {
        kind: 'connectionString',
        connectionString: `Endpoint=sb://127.0.0.1:${listenerPort}/;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`,
      },
    },
    destination: {
      kind: 'azureBlob',
      account: {
        kind: 'connectionString',
        connectionString: `DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:${listenerPort}/a;`,
      },
      container: 'lake',
    },
    ...overrides,
  });

  it('refuses endpoints outside Azure by default, before connecting', async () => {
    const editor = await strict.signedIn('editor');
    const before = connections;
    for (const path of ['topic.testConnection', 'topic.preview', 'topic.create']) {
      const res = await strict.call(path, { config: local() }, { cookie: editor });
      expect(res.status).toBe(400);
      expect(res.body.error.data.fieldErrors).toMatchObject({
        // With a connection string the namespace is its endpoint: named once, on the connection string.
        'source.auth.connectionString': expect.stringMatching(/not an Event Hubs namespace in Azure/),
        'destination.account.connectionString': expect.stringMatching(/not a storage account in Azure/),
      });
    }
    expect(connections).toBe(before);
  });

  it('sends managed-identity tokens to Azure endpoints only, whatever the operator allows', async () => {
    const editor = await api.signedIn('editor');
    const config = local({
      ...workloadTopicInput('probe', {
        namespace: '127.0.0.1',
        accountUrl: 'http://169.254.169.254/metadata',
      }),
      format: { type: 'parquet', schemaRegistry: { fullyQualifiedNamespace: 'localhost' } },
    });
    const res = await api.call('topic.testConnection', { config }, { cookie: editor });
    expect(res.status).toBe(400);
    const errors = res.body.error.data.fieldErrors;
    for (const field of [
      'source.fullyQualifiedNamespace',
      'destination.account.accountUrl',
      'format.schemaRegistry.fullyQualifiedNamespace',
    ]) {
      expect(errors[field]).toMatch(/managed identity tokens are only sent to Azure endpoints/);
    }
  });

  it('accepts the sovereign clouds’ endpoints', async () => {
    const editor = await strict.signedIn('editor');
    const config = topicConfig(
      'sovereign',
      workloadTopicInput('sovereign', {
        namespace: 'ns.servicebus.chinacloudapi.cn',
        accountUrl: 'https://acct.blob.core.usgovcloudapi.net',
        container: 'raw',
      }),
    );
    const res = await strict.call('topic.create', { config }, { cookie: editor });
    expect(res.status).toBe(200);
  });

  it('never echoes what an allowed endpoint answered: a category and the endpoint typed', async () => {
    const editor = await api.signedIn('editor');
    const res = await api.call('topic.testConnection', { config: local() }, { cookie: editor });
    expect(res.status).toBe(200);
    const text = JSON.stringify(res.body);
    expect(text).not.toContain('SECRET-BANNER');
    const checks = res.body.result.data.checks as { state: string; detail: string }[];
    expect(checks.every((c) => c.state === 'fail')).toBe(true);
    for (const check of checks) expect(check.detail).toMatch(/^[a-z ()-]+ \(127\.0\.0\.1/i);
    const preview = await api.call('topic.preview', { config: local() }, { cookie: editor });
    expect(preview.status).toBe(400);
    expect(JSON.stringify(preview.body)).not.toContain('SECRET-BANNER');
  }, 60_000);

  it('refuses a webhook on link-local and metadata addresses, when saved and when posting', async () => {
    const admin = await api.signedIn('admin');
    for (const url of [
      'http://169.254.169.254/latest/meta-data',
      'http://[fd00:ec2::254]/',
      'http://[::ffff:169.254.169.254]/',
    ]) {
      const res = await api.call(
        'settings.update',
        { ...settingsInput, webhook: { action: 'set', url } },
        { cookie: admin },
      );
      expect(res.status, url).toBe(400);
      await expect(webhookPoster()(url, {})).rejects.toThrow(/link-local or cloud metadata/);
    }
    expect(isForbiddenAddress('169.254.170.2')).toBe(true);
    expect(isForbiddenAddress('10.0.0.5')).toBe(false);
    // An operator may allow one explicitly.
    await expect(webhookPoster(['169.254.1.1'])('http://169.254.1.1:9/', {})).rejects.not.toThrow(
      /link-local or cloud metadata/,
    );
  });
});

describe('paths and folders', () => {
  it('refuses "..", empty and absolute segments in templates and prefixes', async () => {
    const editor = await api.signedIn('editor');
    const cases = [
      [{ pathTemplate: '../../../x/{partition}' }, 'pathTemplate'],
      [{ pathTemplate: '/abs/{partition}' }, 'pathTemplate'],
      [{ pathTemplate: 'a//{partition}' }, 'pathTemplate'],
      [
        {
          destination: {
            kind: 'azureBlob',
            account: { kind: 'connectionString', connectionString: 'AccountName=lake;AccountKey=a2V5' },
            container: 'raw',
            prefix: '../victim',
          },
        },
        'destination.prefix',
      ],
    ] as const;
    for (const [overrides, field] of cases) {
      const res = await api.call(
        'topic.create',
        { config: topicConfig('trav', overrides as never) },
        { cookie: editor },
      );
      expect(res.status, JSON.stringify(overrides)).toBe(400);
      expect(res.body.error.data.fieldErrors[field]).toBeTruthy();
    }
    expect(await api.prisma.topic.count({ where: { slug: 'trav' } })).toBe(0);
  });

  it('allows local folders only when the operator enables them, and only under the root', async () => {
    const editor = await strict.signedIn('editor');
    const folder = (path: string) => topicConfig('folder', { destination: { kind: 'localFolder', path } });
    const off = await strict.call('topic.testConnection', { config: folder('/tmp/x') }, { cookie: editor });
    expect(off.status).toBe(400);
    expect(off.body.error.data.fieldErrors['destination.kind']).toMatch(/HUBCAP_LOCAL_FOLDER_ROOT/);

    const localEditor = await api.signedIn('editor');
    for (const path of ['/etc/hubcap', `${LOCAL_POLICY.localFolderRoot}/../escape`, 'relative/path']) {
      const res = await api.call('topic.create', { config: folder(path) }, { cookie: localEditor });
      expect(res.status, path).toBe(400);
      expect(res.body.error.data.fieldErrors['destination.path']).toMatch(/inside/);
    }
  });
});

describe('bad input is a clear 400, never a 500', () => {
  it('bounds report numbers to what the database stores', async () => {
    const { id } = await createTopic(api.prisma, api.secrets, topicConfig('huge'), { actor: 'system' });
    const { token } = await issueAgentToken(api.prisma, id, 'huge-0');
    const res = await api.call('agent.report', agentReport('huge', { filesWritten: 3e9 }), { token });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/filesWritten: must be at most 2147483647/);
    expect(JSON.stringify(res.body)).not.toMatch(/out of range|SELECT|INSERT/);
  });

  it('refuses a 20,000-deep config and oversized names', async () => {
    const editor = await api.signedIn('editor');
    // Written by hand: JSON.stringify itself overflows the stack on such a value.
    const deep = `{"config":${'{"a":'.repeat(20_000)}{}${'}'.repeat(20_000)}}`;
    const nested = await api.fetch('topic.testConnection', {
      method: 'POST',
      headers: { ...json, cookie: editor },
      body: deep,
    });
    expect(nested.status).toBe(400);
    expect(((await nested.json()) as { error: { message: string } }).error.message).toMatch(/nested/);

    const long = topicConfig('long', {
      source: {
        fullyQualifiedNamespace: 'contoso.servicebus.windows.net',
        eventHubName: 'h'.repeat(300),
        consumerGroup: 'g'.repeat(300),
        auth: { kind: 'workloadIdentity' },
      },
    });
    const res = await api.call('topic.create', { config: long }, { cookie: editor });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.data.fieldErrors)).toEqual([
      'source.eventHubName',
      'source.consumerGroup',
    ]);
  });
});

describe('internal errors', () => {
  it('reach clients as "internal error", without SQL or stack text', async () => {
    const boom = router({
      fail: publicProcedure.query(() => {
        throw new Error('value "3000000000" is out of range for type integer: INSERT INTO "MetricSample" …');
      }),
    });
    const res = await fetchRequestHandler({
      endpoint: '/api/trpc',
      req: new Request('http://hubcap.test/api/trpc/fail'),
      router: boom,
      createContext: () => ({}) as never,
      onError: () => {},
    });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).toContain('internal error');
    expect(text).not.toMatch(/out of range|INSERT|MetricSample|at .*\.ts/);
  });
});

describe('cross-site requests', () => {
  it('refuses state changes from another site or origin, and form bodies', async () => {
    const cookie = await api.signedIn('viewer');
    const signOut = (headers: Record<string, string>) =>
      api.fetch('auth.signOut', { method: 'POST', headers: { cookie, ...headers }, body: '{}' });
    expect((await signOut({ ...json, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await signOut({ ...json, 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await signOut({ ...json, origin: 'http://127.0.0.1:9999', host: 'hubcap.test' })).status).toBe(
      403,
    );
    expect((await signOut({ 'content-type': 'multipart/form-data; boundary=x' })).status).toBe(415);
    expect((await signOut({ 'content-type': 'text/plain' })).status).toBe(415);
    // The session survived all of them; a same-origin request signs out.
    expect((await api.call('auth.me', undefined, { cookie })).status).toBe(200);
    expect(
      (await signOut({ ...json, 'sec-fetch-site': 'same-origin', origin: 'http://hubcap.test' })).status,
    ).toBe(200);
  });
});

describe('unbounded growth', () => {
  it('caps live topic streams per account', async () => {
    await createTopic(api.prisma, api.secrets, topicConfig('live'), { actor: 'system' });
    const caller = await api.caller({ cookie: await api.signedIn('viewer') });
    const streams: AsyncIterator<unknown>[] = [];
    for (let i = 0; i < 8; i++) {
      const stream = (await caller.topic.watch({ name: 'live' }))[Symbol.asyncIterator]();
      await stream.next();
      streams.push(stream);
    }
    const ninth = (await caller.topic.watch({ name: 'live' }))[Symbol.asyncIterator]();
    await expect(ninth.next()).rejects.toThrow(/at most 8 live topic pages/);
    await streams.pop()!.return?.();
    const again = (await caller.topic.watch({ name: 'live' }))[Symbol.asyncIterator]();
    await expect(again.next()).resolves.toMatchObject({ done: false });
    await Promise.all([...streams, again].map((s) => s.return?.()));
  });

  it('ends idle sessions and prunes them with expired ones', async () => {
    const cookie = await api.signedIn('viewer');
    expect((await api.call('auth.me', undefined, { cookie })).status).toBe(200);
    await api.prisma.session.updateMany({ data: { updatedAt: new Date(Date.now() - 13 * 3_600_000) } });
    expect((await api.call('auth.me', undefined, { cookie })).status).toBe(401);
    expect(await pruneSessions(api.prisma)).toBeGreaterThan(0);
    expect(await api.prisma.session.count()).toBe(0);
  });

  it('keeps at most 100 dead-letter reasons per topic, folding new ones into "other"', async () => {
    const { id } = await createTopic(api.prisma, api.secrets, topicConfig('dlq'), { actor: 'system' });
    const { token } = await issueAgentToken(api.prisma, id, 'dlq-0');
    const startedAt = new Date(Date.now() - 60_000).toISOString();
    for (let run = 0; run < 5; run++) {
      const reasons = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`reason-${run}-${i}`, 1]));
      const report = agentReport('dlq', {
        deadLettered: 30,
        deadLetteredByReason: reasons,
        startedAt,
        agentId: `dlq-${run}`,
      });
      expect((await api.call('agent.report', report, { token })).status).toBe(200);
    }
    const rows = await api.prisma.topicDeadLetter.findMany({ where: { topicId: id } });
    expect(rows.length).toBeLessThanOrEqual(101);
    const total = rows.reduce((sum, r) => sum + Number(r.count), 0);
    expect(total).toBe(150);
    expect(rows.find((r) => r.reason === 'other')?.count).toBeGreaterThan(0);
  });
});

describe('accounts', () => {
  it('makes a user with an admin-generated password choose their own before anything else', async () => {
    const admin = await api.signedIn('admin');
    const created = await api.call(
      'user.create',
      { email: 'newbie@example.com', name: 'New', role: 'editor' },
      { cookie: admin },
    );
    const { password } = created.body.result.data;
    const signIn = await api.call('auth.signIn', { email: 'newbie@example.com', password });
    expect(signIn.body.result.data.mustChangePassword).toBe(true);
    const cookie = signIn.setCookie!.split(';')[0]!;
    expect((await api.call('topic.list', undefined, { cookie })).status).toBe(403);
    expect((await api.call('auth.me', undefined, { cookie })).status).toBe(200);

    const wrong = await api.call(
      'auth.changePassword',
      { currentPassword: 'nope', newPassword: 'a long new password' },
      { cookie },
    );
    expect(wrong.status).toBe(400);
    const short = await api.call(
      'auth.changePassword',
      { currentPassword: password, newPassword: 'short' },
      { cookie },
    );
    expect(short.status).toBe(400);
    const changed = await api.call(
      'auth.changePassword',
      { currentPassword: password, newPassword: 'a long new password' },
      { cookie },
    );
    expect(changed.status).toBe(200);
    expect((await api.call('topic.list', undefined, { cookie })).status).toBe(200);
    expect((await api.call('auth.signIn', { email: 'newbie@example.com', password })).status).toBe(401);
  });
});
