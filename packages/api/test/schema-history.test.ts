import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SchemaVersionReport } from '@hubcap/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runMaintenance } from '../src/services/maintenance.ts';
import { notifySchemaChanges } from '../src/services/schema/schema-history.ts';
import { rollupMinutes } from '../src/services/telemetry/metrics.ts';
import { createTopic, issueAgentToken } from '../src/services/topics/topics.ts';
import { agentReport, settingsInput, topicConfig } from './fixtures.ts';
import { type Harness, startHarness } from './harness.ts';

let api: Harness;
let topicId: string;
let token: string;
let viewer: string;
let editor: string;

beforeEach(async () => {
  api = await startHarness();
  ({ id: topicId } = await createTopic(
    api.prisma,
    api.secrets,
    topicConfig('orders', { format: { type: 'parquet' } }),
    { actor: 'system' },
  ));
  // One token shared by every replica, as a deployment hands it out.
  ({ token } = await issueAgentToken(api.prisma, topicId, 'orders-kubernetes-v1'));
  viewer = await api.signedIn('viewer');
  editor = await api.signedIn('editor');
});
afterEach(() => api.close());

const V1 = [
  { path: 'id', type: 'BIGINT' },
  { path: 'amount', type: 'BIGINT' },
  { path: 'legacy', type: 'BOOLEAN' },
];
const V2 = [
  { path: 'id', type: 'BIGINT' },
  { path: 'amount', type: 'DOUBLE' },
  { path: 'currency', type: 'VARCHAR' },
  { path: 'customer', type: 'STRUCT' },
  { path: 'customer.name', type: 'VARCHAR' },
];
const print = (n: number) => n.toString(16).padStart(32, '0');

const version = (
  n: number,
  fields: SchemaVersionReport['fields'],
  firstSeenAt: string,
  path = `orders/0/${n}.parquet`,
): SchemaVersionReport => ({ fingerprint: print(n), fields, firstSeenAt, path, partitionId: '0' });

/** A report from one replica (pod) of the topic's agent; `startedAt` tells its runs apart. */
const report = (replica: string, startedAt: string, extra: Parameters<typeof agentReport>[1] = {}) =>
  agentReport('orders', { agentId: replica, startedAt, ...extra });

async function setWebhook(url: string) {
  const admin = await api.signedIn('admin');
  const set = await api.call(
    'settings.update',
    { ...settingsInput, webhook: { action: 'set', url } },
    { cookie: admin },
  );
  expect(set.status).toBe(200);
}

async function send(body: unknown) {
  const res = await api.call('agent.report', body, { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

const get = async (path: string, input: unknown, cookie = viewer) => {
  const res = await api.call(path, input, { cookie });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.result.data;
};

/** A real HTTP receiver for the alert webhook. */
async function webhookReceiver() {
  const received: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ requestUrl: req.url, ...JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/T0KEN`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const T0 = '2026-11-24T10:00:00.000Z';
const T1 = '2026-11-24T10:05:00.000Z';

describe('schema history', () => {
  it('stores a fingerprint once, whichever replica reports it, and again after a restart', async () => {
    await send(report('orders-7f-a', T0, { schemaVersions: [version(1, V1, '2026-11-24T10:01:00.000Z')] }));
    // A second replica reached the same schema earlier (it reports later): one version, earliest sighting.
    await send(
      report('orders-7f-b', T0, {
        schemaVersions: [version(1, V1, '2026-11-24T10:00:30.000Z', 'orders/1/first.parquet')],
      }),
    );
    // The first replica restarts and reports its current schema again.
    await send(report('orders-7f-a', T1, { schemaVersions: [version(1, V1, '2026-11-24T10:06:00.000Z')] }));
    const rows = await api.prisma.topicSchemaVersion.findMany();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      version: 1,
      fieldCount: 3,
      path: 'orders/1/first.parquet',
      firstSeenAt: new Date('2026-11-24T10:00:30.000Z'),
      reportedBy: 'orders-7f-a',
      changeSummary: null,
    });

    // Several replicas reporting the same new schema at the same moment still make one version 2.
    await Promise.all(
      ['a', 'b', 'c', 'd'].map((r) =>
        send(report(`orders-7f-${r}`, T0, { schemaVersions: [version(2, V2, T1)] })),
      ),
    );
    const versions = await api.prisma.topicSchemaVersion.findMany({ orderBy: { version: 'asc' } });
    expect(versions.map((v) => `${v.version}:${v.fingerprint}`)).toEqual([`1:${print(1)}`, `2:${print(2)}`]);
    expect(versions[1]!.changeSummary).toEqual({ added: 3, removed: 1, widened: 1, changed: 0 });
  });

  it('numbers concurrent new versions without gaps or duplicates', async () => {
    await Promise.all(
      [3, 4, 5, 6, 7].map((n) =>
        send(
          report(`orders-${n}`, T0, {
            schemaVersions: [version(n, [{ path: `f${n}`, type: 'BIGINT' }], T1)],
          }),
        ),
      ),
    );
    const rows = await api.prisma.topicSchemaVersion.findMany({ orderBy: { version: 'asc' } });
    expect(rows.map((r) => r.version)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(rows.map((r) => r.fingerprint)).size).toBe(5);
  });

  it('shows history and diffs, raises a notice for a change only, sends it to the webhook once, and lets an editor acknowledge it', async () => {
    const hook = await webhookReceiver();
    try {
      await setWebhook(hook.url);

      // The first version is not a change: no notice, nothing sent.
      await send(report('orders-a', T0, { schemaVersions: [version(1, V1, T0)] }));
      expect(await notifySchemaChanges(api.prisma, api.secrets)).toBe(0);
      expect(hook.received).toHaveLength(0);
      let detail = await get('topic.get', { name: 'orders', range: '1h' });
      expect(detail.schema.notice).toBeNull();
      expect(detail.schemaChanges).toBe(0);

      await send(report('orders-a', T0, { schemaVersions: [version(2, V2, T1, 'orders/0/000042.parquet')] }));
      detail = await get('topic.get', { name: 'orders', range: '1h' });
      expect(detail.schema.total).toBe(2);
      expect(detail.schema.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
      expect(detail.schema.versions[0]).toMatchObject({
        fieldCount: 5,
        path: 'orders/0/000042.parquet',
        firstSeenAt: T1,
        changeText: '3 fields added, 1 widened, 1 no longer written',
        acknowledged: false,
      });
      expect(detail.schema.notice).toMatchObject({
        version: 2,
        sinceVersion: 1,
        versions: 1,
        firstSeenAt: T1,
        text: 'Schema v2: 3 fields added, 1 widened, 1 no longer written',
      });
      const fleet = await get('topic.list', undefined);
      expect(fleet.topics[0].schemaChanges).toBe(1);

      // The maintenance pass delivers it to the webhook, once.
      const pass = await runMaintenance(api.prisma, api.secrets, { leaseMs: 0 });
      expect(pass?.schemaChanges).toBe(1);
      expect(hook.received).toEqual([
        {
          requestUrl: '/hooks/T0KEN',
          topic: 'orders',
          kind: 'schema',
          state: 'changed',
          message: 'Schema v2 of orders: 3 fields added, 1 widened, 1 no longer written',
          version: 2,
          previousVersion: 1,
          fingerprint: print(2),
          firstSeenAt: T1,
          path: 'orders/0/000042.parquet',
          summary: { added: 3, removed: 1, widened: 1, changed: 0 },
          added: [
            { path: 'currency', type: 'VARCHAR' },
            { path: 'customer', type: 'STRUCT' },
            { path: 'customer.name', type: 'VARCHAR' },
          ],
          removed: [{ path: 'legacy', type: 'BOOLEAN' }],
          changed: [{ path: 'amount', from: 'BIGINT', to: 'DOUBLE', kind: 'widened' }],
        },
      ]);
      expect(await notifySchemaChanges(api.prisma, api.secrets)).toBe(0);
      expect(hook.received).toHaveLength(1);

      // Fields of one version, and the diff between any two (either direction).
      const v2 = await get('schema.getVersion', { name: 'orders', version: 2 });
      expect(v2.fields).toEqual(V2);
      const back = await get('schema.compareVersions', { name: 'orders', from: 2, to: 1 });
      expect(back.summary).toEqual({ added: 1, removed: 3, widened: 0, changed: 1 });
      expect(
        (await api.call('schema.getVersion', { name: 'orders', version: 9 }, { cookie: viewer })).status,
      ).toBe(404);

      // A viewer cannot acknowledge; an agent cannot read the history; an editor can acknowledge.
      expect(
        (await api.call('schema.acknowledgeChange', { name: 'orders', version: 2 }, { cookie: viewer }))
          .status,
      ).toBe(403);
      expect((await api.call('schema.listVersions', { name: 'orders' }, { token })).status).toBe(401);
      const ack = await api.call(
        'schema.acknowledgeChange',
        { name: 'orders', version: 2 },
        { cookie: editor },
      );
      expect(ack.body.result.data).toEqual({ acknowledged: 1 });
      detail = await get('topic.get', { name: 'orders', range: '1h' });
      expect(detail.schema.notice).toBeNull();
      expect(detail.schema.versions[0].acknowledged).toBe(true);

      const actions = (await api.prisma.auditEvent.findMany({ orderBy: { createdAt: 'asc' } })).map(
        (e) => `${e.action} ${e.actor.split(':')[0]}`,
      );
      expect(actions).toEqual(expect.arrayContaining(['schema.newVersion agent', 'schema.acknowledge user']));
      expect(actions.filter((a) => a.startsWith('schema.newVersion'))).toHaveLength(2);
    } finally {
      await hook.close();
    }
  });

  it('sends a change once when two maintenance passes run together, and again after a failed delivery', async () => {
    const hook = await webhookReceiver();
    try {
      await setWebhook(hook.url);
      await send(report('orders-a', T0, { schemaVersions: [version(1, V1, T0)] }));
      await send(report('orders-a', T0, { schemaVersions: [version(2, V2, T1)] }));

      const failing = async () => {
        throw new Error('connection refused');
      };
      const lines: string[] = [];
      expect(
        await notifySchemaChanges(api.prisma, api.secrets, { notify: failing, log: (l) => lines.push(l) }),
      ).toBe(0);
      expect(lines).toEqual(['schema webhook delivery failed: connection refused']);

      const passes = await Promise.all([
        notifySchemaChanges(api.prisma, api.secrets),
        notifySchemaChanges(api.prisma, api.secrets),
      ]);
      expect(passes.sort()).toEqual([0, 1]);
      expect(hook.received.map((r) => r.version)).toEqual([2]);
    } finally {
      await hook.close();
    }
  });

  it('counts several unacknowledged changes as one notice from the last acknowledged version', async () => {
    await send(report('orders-a', T0, { schemaVersions: [version(1, V1, T0)] }));
    await send(report('orders-a', T0, { schemaVersions: [version(2, V2, T1)] }));
    await api.call('schema.acknowledgeChange', { name: 'orders', version: 2 }, { cookie: editor });
    const v3 = [...V2, { path: 'note', type: 'VARCHAR' }];
    const v4 = [...v3.filter((f) => f.path !== 'id'), { path: 'id', type: 'VARCHAR' }];
    await send(
      report('orders-a', T0, {
        schemaVersions: [
          version(4, v4, '2026-11-24T10:09:00.000Z'),
          version(3, v3, '2026-11-24T10:08:00.000Z'),
        ],
      }),
    );
    const { notice, versions } = await get('schema.listVersions', { name: 'orders' });
    // Reported together, numbered in first-seen order.
    expect(
      versions.map((v: { version: number; fieldCount: number }) => `${v.version}:${v.fieldCount}`),
    ).toEqual(['4:6', '3:6', '2:5', '1:3']);
    expect(notice).toMatchObject({
      version: 4,
      sinceVersion: 2,
      versions: 2,
      text: 'Schema v4: 1 field added, 1 widened',
    });
  });

  it('refuses bad input with a field message', async () => {
    const res = await api.call(
      'schema.compareVersions',
      { name: 'orders', from: 0, to: 'x' },
      { cookie: viewer },
    );
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.data.fieldErrors).sort()).toEqual(['from', 'to']);
  });
});

describe('dead letters', () => {
  it('sums replicas, survives restarts and repeated reports, and shows totals, reasons, rate and location', async () => {
    // Two replicas sharing one token; totals since each one started.
    await send(
      report('orders-a', T0, { deadLettered: 3, deadLetteredByReason: { 'not-json': 2, 'too-large': 1 } }),
    );
    await send(report('orders-b', T0, { deadLettered: 2, deadLetteredByReason: { 'not-json': 2 } }));
    // The same totals again (a retried report, or nothing new) add nothing, even at the same moment.
    await Promise.all([
      send(
        report('orders-a', T0, { deadLettered: 3, deadLetteredByReason: { 'not-json': 2, 'too-large': 1 } }),
      ),
      send(
        report('orders-a', T0, { deadLettered: 3, deadLetteredByReason: { 'not-json': 2, 'too-large': 1 } }),
      ),
    ]);
    await send(
      report('orders-b', T0, {
        deadLettered: 5,
        deadLetteredByReason: { 'not-json': 4, 'undecodable-avro': 1 },
      }),
    );
    // Replica a restarts: its total starts from zero again.
    await send(report('orders-a', T1, { deadLettered: 0 }));
    await send(report('orders-a', T1, { deadLettered: 1, deadLetteredByReason: { 'too-large': 1 } }));
    // An agent that sends only the total.
    await send(report('orders-c', T0, { deadLettered: 2 }));

    const detail = await get('topic.get', { name: 'orders', range: '1h' });
    expect(detail.deadLetters.total).toBe(3 + 5 + 1 + 2);
    expect(
      Object.fromEntries(
        detail.deadLetters.byReason.map((r: { reason: string; count: number }) => [r.reason, r.count]),
      ),
    ).toEqual({ 'not-json': 6, 'too-large': 2, unspecified: 2, 'undecodable-avro': 1 });
    expect(detail.deadLetters.location).toBe(
      'raw/_deadletter/{namespace}/{hub}/{partition}/{yyyy}/{MM}/{dd}/{HH}/{mm}/',
    );

    const samples = await api.prisma.metricSample.findMany({
      orderBy: { id: 'asc' },
      select: { deadLettered: true },
    });
    expect(samples.map((s) => s.deadLettered).reduce((a, b) => a + b, 0)).toBe(11);
    await rollupMinutes(api.prisma, new Date(Date.now() - 5 * 60_000));
    const fleet = await get('topic.list', undefined);
    expect(fleet.topics[0]).toMatchObject({ deadLettered: 11, deadLetteredLastHour: 11 });
    expect((await get('topic.get', { name: 'orders', range: '1h' })).deadLetters.lastHour).toBe(11);
  });

  it('keeps reason names bounded and safe', async () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`reason-${i}`, 1]));
    await send(
      report('orders-a', T0, { deadLettered: 41, deadLetteredByReason: { ...many, '<script>': 1 } }),
    );
    const rows = await api.prisma.topicDeadLetter.findMany();
    expect(rows.length).toBeLessThanOrEqual(33);
    expect(rows.map((r) => r.reason)).not.toContain('<script>');
    expect(rows.reduce((a, r) => a + Number(r.count), 0)).toBe(41);
  });
});
